"""`python -m opencompass.tasks.run_task TASK_FILE`: run one infer task.

The entry point of a Slurm job (and usable by hand to rerun one task): it
loads the pickled `InferTask` the runner wrote, runs it, and writes
`TASK_FILE.status` (`{"ok", "error", "user_error"}`) so the runner can tell a
failed task from a killed one and report the reason. Exit codes as run.py:
0 done, 2 an error the user can fix, 1 anything else, 130 interrupted.
"""
import json
import logging
import pickle
import signal
import sys


def _write_status(task_file, ok, error='', user_error=False):
    with open(task_file + '.status', 'w', encoding='utf-8') as f:
        json.dump({'ok': ok, 'error': error, 'user_error': user_error}, f)


def main(argv=None):
    from opencompass.errors import OpenCompassError
    from opencompass.tasks.infer_task import execute
    from opencompass.utils.secrets import RedactingFilter, redact_text
    task_file = (argv or sys.argv[1:])[0]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with open(task_file, 'rb') as f:
        task = pickle.load(f)
    try:
        execute(task)
    except OpenCompassError as err:
        _write_status(task_file, False, redact_text(err), user_error=True)
        print(f'error: {redact_text(err)}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _write_status(task_file, False, 'interrupted')
        return 130
    except BaseException as err:
        _write_status(task_file, False, redact_text(f'{type(err).__name__}: {err}'))
        raise
    _write_status(task_file, True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
