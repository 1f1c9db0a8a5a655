"""scikit-learn estimators to bytes and back with skops: no pickle, and only scikit-learn / numpy /
scipy types are trusted when loading (anything else in a file is refused, not executed)."""

from __future__ import annotations

from typing import Any

from ..errors import IntegrityError

_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


def dumps_estimator(estimator: Any) -> bytes:
    import skops.io as sio

    return sio.dumps(estimator)


def loads_estimator(data: bytes) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    refused = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if refused:
        raise IntegrityError(f"refusing to load an estimator that contains untrusted types: {refused}")
    return sio.loads(data, trusted=untrusted)
