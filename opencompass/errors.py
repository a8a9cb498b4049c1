"""Errors a user can fix. The CLI prints their message as one line and exits 2.

Every message says what is wrong *and* what to do about it.
"""


class OpenCompassError(Exception):
    """Base of every user-fixable error."""

    exit_code = 2


class ConfigError(OpenCompassError):
    """A config file is missing, malformed, or lacks `models` / `datasets`."""


class UnknownNameError(OpenCompassError):
    """A name given on the command line or as a `type=` matches nothing."""


class UnknownModelTypeError(OpenCompassError):
    """A model dict's `type` cannot be built or converted."""


class DataPathError(OpenCompassError):
    """A dataset path does not exist or lacks the expected files."""


class ModelPathError(OpenCompassError):
    """A model path (local dir, hub id or embedded:// name) cannot be loaded."""


class EngineNotInstalledError(OpenCompassError):
    """An inference engine (vllm, lmdeploy, sglang, openai) is not importable."""


class PromptTooLongError(OpenCompassError):
    """A prompt does not fit the model's context and the policy says not to cut it."""

    def __init__(self, prompt_tokens, limit, detail=''):
        self.prompt_tokens = prompt_tokens
        self.limit = limit
        msg = (f'prompt of {prompt_tokens} tokens does not fit the context '
               f'limit of {limit} tokens')
        if detail:
            msg += f' ({detail})'
        super().__init__(msg + '; shorten the prompt, lower max_out_len, '
                         "or use prompt_overflow='truncate'")


class DiskFullError(OpenCompassError):
    """The disk filled up mid-run; what was written is kept for `-r`."""


class RunInUseError(OpenCompassError):
    """Another process is writing into the same run folder."""


class TasksFailedError(OpenCompassError):
    """Some tasks (Slurm jobs) did not finish; their predictions are kept and
    `-r` finishes them. A distinct exit code, as no summary was written."""

    exit_code = 4


class ServerError(OpenCompassError):
    """An API server cannot be reached or answers something unusable."""
