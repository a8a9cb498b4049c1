"""Keep API keys out of logs, dumped configs and printed dicts."""

import copy

SECRET_KEYS = {'key', 'api_key', 'openai_api_key', 'authorization', 'token',
               'hf_token'}
NOT_SECRET = (None, '', 'EMPTY', 'ENV')  # placeholders, shown as they are


def redact(obj):
    """A deep copy of `obj` with the value of every secret-named key replaced."""
    if isinstance(obj, dict):
        return {k: ('***' if str(k).lower() in SECRET_KEYS
                    and v not in NOT_SECRET else redact(v))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact(v) for v in obj)
    return copy.deepcopy(obj)
