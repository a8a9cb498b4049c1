"""Keep API keys out of logs, dumped configs and printed dicts."""

SECRET_KEYS = {'key', 'api_key', 'openai_api_key', 'token', 'hf_token'}


def redact(obj):
    """A copy of `obj` with the value of every secret-named key replaced."""
    if isinstance(obj, dict):
        return {k: ('***' if k in SECRET_KEYS and v not in (None, '', 'EMPTY')
                    else redact(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v) for v in obj]
    return obj
