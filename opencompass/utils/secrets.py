"""One redaction rule for everything the project writes or prints.

Dumped configs, `--dry-run` output, logs, error lines and results all pass
through here, so a key never reaches disk or a terminal:

- a field whose *name* looks like a credential (`key`, `api_key`, `hf_token`,
  `password`, `secret`, `authorization`, ...) has its value replaced by '***',
  at any depth of a config;
- credentials inside URLs (`http://user:password@host`) become `***@host`;
- every secret value met in a config (or registered by a model that reads one
  from the environment) is remembered for this process, and `redact_text`
  replaces it wherever it shows up later: in an exception text, a log line, a
  server's echo of a request.
"""
import copy
import logging
import re

# Field names that hold a credential, matched on the lower-cased name.
_SECRET_NAMES = {'key', 'keys', 'api_key', 'apikey', 'api_keys', 'token',
                 'authorization', 'password', 'passwd', 'secret',
                 'credentials', 'cookie'}
_SECRET_SUFFIXES = ('_api_key', '_apikey', '_token', '_password', '_passwd',
                    '_secret', '_secret_key', '_access_key', '_private_key',
                    '_auth', '_credentials')
# Names that end like a secret but are not one.
_NOT_SECRET_NAMES = {'max_token', 'min_token', 'eos_token', 'bos_token',
                     'pad_token', 'unk_token', 'sep_token', 'cls_token',
                     'mask_token', 'stop_token', 'end_token'}
NOT_SECRET = (None, '', 'EMPTY', 'ENV')  # placeholders, shown as they are
MASK = '***'

_URL_CREDENTIALS = re.compile(r'(\b[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/\s@]+@')
_BEARER = re.compile(r'(Bearer\s+)[^\s\'"]+')
_SK_KEY = re.compile(r'\bsk-[A-Za-z0-9_\-]{8,}')

_known_values = set()  # secret values seen in this process


def is_secret_name(name):
    """True when a field called `name` holds a credential."""
    name = str(name).lower()
    if name in _NOT_SECRET_NAMES:
        return False
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


def remember(value):
    """Hide `value` from every later `redact_text` of this process."""
    for item in (value if isinstance(value, (list, tuple)) else [value]):
        if isinstance(item, str) and item not in NOT_SECRET and len(item) >= 4:
            _known_values.add(item)


def redact_text(text):
    """A string with URL credentials, bearer tokens, `sk-` keys and every
    remembered secret value replaced by '***'."""
    text = str(text)
    for value in sorted(_known_values, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _URL_CREDENTIALS.sub(r'\1' + MASK + '@', text)
    text = _BEARER.sub(r'\1' + MASK, text)
    return _SK_KEY.sub('sk-' + MASK, text)


def redact(obj):
    """A deep copy of `obj` with secret-named fields masked (and remembered)
    and credentials in string values removed."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if is_secret_name(k) and not _is_placeholder(v):
                remember(v)
                out[k] = MASK
            else:
                out[k] = redact(v)
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact(v) for v in obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return copy.deepcopy(obj)


def _is_placeholder(value):
    return value in NOT_SECRET if isinstance(value, (str, type(None))) else False


class RedactingFilter(logging.Filter):
    """Rewrites every log record with `redact_text` before any handler
    formats it (attach to handlers: a filter on a logger misses records that
    propagate from child loggers)."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it
            return True
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(
                logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
