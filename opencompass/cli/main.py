"""`python run.py CONFIG [-a BACKEND]` / `opencompass CONFIG`: the whole run.

Parse flags, load the models and datasets (config file, --models/--datasets,
--hf-path), apply overrides and the backend switch, then infer, evaluate and
summarize into outputs/<work_dir>/<stamp>/. User errors print one line, exit 2.
"""
import argparse
import json
import logging
import os
import signal
import sys

from opencompass.errors import ConfigError, OpenCompassError

logger = logging.getLogger('opencompass')

BACKENDS = ('hf', 'vllm', 'lmdeploy', 'sglang', 'openai')


def build_parser():
    p = argparse.ArgumentParser(
        prog='opencompass', description='Evaluate LLMs on benchmarks, on the '
        'inference backend of your choice (one flag).')
    p.add_argument('config', nargs='?', help='Python config with models and datasets')
    p.add_argument('--models', nargs='+', default=[], metavar='NAME',
                   help='model config files under configs/models/ (by name)')
    p.add_argument('--datasets', nargs='+', default=[], metavar='NAME',
                   help='dataset config files under configs/datasets/ (by name)')
    p.add_argument('--hf-path', help='evaluate this HF model (folder, hub id or '
                   'embedded://smollm2-135m-instruct) without a model config')
    p.add_argument('--hf-type', choices=('base', 'chat'), default='chat')
    p.add_argument('--tokenizer-path')
    p.add_argument('--max-seq-len', type=int)
    p.add_argument('-a', '--accelerator', default='hf', metavar='BACKEND',
                   help='inference backend: ' + ', '.join(BACKENDS) + ', auto '
                   '(the fastest usable here), or a comma list to compare '
                   'backends (the first is the reference), e.g. hf,openai')
    p.add_argument('--api-base', help='OpenAI-compatible endpoint for -a openai '
                   '(default $OPENAI_API_BASE or http://127.0.0.1:8000/v1)')
    p.add_argument('--api-key', help='API key (default $OPENAI_API_KEY or EMPTY)')
    p.add_argument('--api-model', help='served model name (default: the one the '
                   'server lists)')
    p.add_argument('--server-type', help='the engine behind --api-base (vllm, '
                   'sglang, lmdeploy, llama.cpp, llama-cpp-python, transformers, '
                   'generic); default: found by probing the server')
    judge = p.add_argument_group(
        'LLM judge', 'for datasets scored by a judge model (GenericLLMEvaluator, '
        'CascadeEvaluator); these win over the judge a config names')
    judge.add_argument('--judge-hf-path', metavar='PATH',
                       help='judge with this HF chat model (folder, hub id or '
                       'embedded://...)')
    judge.add_argument('--judge-api-base', metavar='URL',
                       help='judge with the model served at this '
                       'OpenAI-compatible endpoint')
    judge.add_argument('--judge-api-model', metavar='NAME',
                       help='served judge model name (default: the one the '
                       'server lists)')
    judge.add_argument('--judge-api-key', metavar='KEY',
                       help='API key of the judge server (default '
                       '$OPENAI_API_KEY or EMPTY)')
    judge.add_argument('--judge-max-out-len', type=int, metavar='N',
                       help='max_out_len of a judge given on the command line '
                       '(default 512)')
    judge.add_argument('--judge-accelerator', metavar='BACKEND',
                       help='backend of the judge (default: the first of -a), '
                       'e.g. -a vllm --judge-accelerator hf')
    p.add_argument('-w', '--work-dir', help='default outputs/default')
    p.add_argument('-r', '--reuse', nargs='?', const='latest', metavar='STAMP',
                   help='resume the latest run (or STAMP): predict only what is '
                   'missing or failed')
    p.add_argument('--max-out-len', type=int, help='override max_out_len')
    p.add_argument('--batch-size', type=int, help='override batch_size')
    p.add_argument('--test-range', help="slice every dataset, e.g. '[0:50]'")
    p.add_argument('--dry-run', action='store_true',
                   help='print the resolved tasks and exit (imports no engine)')
    p.add_argument('--debug', action='store_true', help='show tracebacks')
    from opencompass.runners.choose import add_arguments
    add_arguments(p)
    return p


def gather(args):
    """(models, datasets, cfg) from the config file and the CLI."""
    from opencompass.utils.config import (find_named_configs, hf_model_from_args,
                                          load_config, normalize_types, _collect)
    cfg = load_config(args.config) if args.config else {}
    models = _collect(cfg, 'models') if cfg else []
    datasets = _collect(cfg, 'datasets') if cfg else []
    if args.models or args.hf_path:
        models = find_named_configs('models', args.models)
        if args.hf_path:
            models.append(hf_model_from_args(args))
    if args.datasets:
        datasets = find_named_configs('datasets', args.datasets)
    if not models or not datasets:
        what = 'models' if not models else 'datasets'
        raise ConfigError(f'no {what} to evaluate; give a config with a {what} '
                          f'list, or --{what} NAME' +
                          (' or --hf-path PATH' if what == 'models' else ''))
    return normalize_types(models), normalize_types(datasets), cfg


def apply_overrides(models, datasets, args):
    """CLI overrides win over the config: max_out_len, batch_size, test_range."""
    for m in models:
        if args.max_out_len:
            m['max_out_len'] = args.max_out_len
        if args.batch_size:
            m['batch_size'] = args.batch_size
    for d in datasets:
        infer = (d.get('infer_cfg') or {}).get('inferencer') or {}
        if args.max_out_len and 'max_out_len' in infer:
            infer['max_out_len'] = args.max_out_len
        if args.test_range:
            d.setdefault('reader_cfg', {})['test_range'] = args.test_range


def switch_backend(models, accelerator, args):
    if accelerator in (None, '', 'hf'):
        return models
    from opencompass.utils.run import change_accelerator
    return change_accelerator(models, accelerator, api_base=args.api_base,
                              api_key=args.api_key, api_model=args.api_model,
                              server_type=args.server_type)


def setup_judges(datasets, cfg, args, backends):
    """Datasets whose judged evaluators hold their judge, converted to the
    judge's backend (see utils/judges.py); the judge models of the run."""
    from opencompass.utils.judges import (convert_judges, judge_models,
                                          resolve_judges)
    from opencompass.utils.run import _check_accelerator
    datasets = resolve_judges(datasets, cfg, args)
    backend = _check_accelerator(args.judge_accelerator or backends[0])
    if backend != 'hf':
        datasets = convert_judges(
            datasets, backend, api_base=args.judge_api_base or args.api_base,
            api_key=args.judge_api_key or args.api_key,
            api_model=args.judge_api_model,
            server_type=None if args.judge_api_base else args.server_type)
    return datasets, judge_models(datasets)


def setup_logging(debug, log_dir=None):
    from opencompass.utils.secrets import RedactingFilter
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s',
                        datefmt='%H:%M:%S', stream=sys.stderr, force=True)
    for noisy in ('httpx', 'httpcore', 'openai', 'urllib3', 'filelock'):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)
        handler = logging.FileHandler(os.path.join(log_dir, 'run.log'))
        handler.setFormatter(logging.Formatter(
            '%(asctime)s %(levelname)s %(name)s: %(message)s'))
        logging.getLogger().addHandler(handler)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    # a log line that cannot be written (a full disk) must not print a
    # traceback over the one-line error that follows
    logging.raiseExceptions = debug


def open_run(args, cfg, ident):
    """The run folder (new, or the one `-r` resumes), locked for this run."""
    from opencompass.tasks.layout import RunLayout
    from opencompass.tasks.run_identity import find_resumable
    from opencompass.tasks.run_lock import RunLock
    work_dir = args.work_dir or cfg.get('work_dir') or os.path.join('outputs',
                                                                     'default')
    _check_work_dir(work_dir)
    layout = None
    if args.reuse:
        stamp = None if args.reuse == 'latest' else args.reuse
        layout = find_resumable(work_dir, stamp, ident)
        if layout is None:
            logger.warning('nothing to resume under %s; starting a new run',
                           work_dir)
    layout = layout or RunLayout.new(work_dir)
    layout.lock = RunLock(layout.root).acquire()
    return layout


def _check_work_dir(work_dir):
    """A work dir that cannot hold a run is one line, before any work."""
    try:
        os.makedirs(work_dir, exist_ok=True)
        probe = os.path.join(work_dir, f'.write_test_{os.getpid()}')
        with open(probe, 'w') as f:
            f.write('ok')
        os.remove(probe)
    except OSError as err:
        raise ConfigError(f'cannot write into the work dir {work_dir} '
                          f'({err.strerror}); pass -w with a writable folder'
                          ) from None


def dump_config(layout, models, datasets, args, ident):
    """configs/<stamp>.py (the resolved config, secrets redacted) and
    configs/identity.json (what `-r` compares)."""
    from opencompass.tasks.predictions import write_atomic
    from opencompass.tasks.run_identity import save_identity
    from opencompass.utils.secrets import redact
    os.makedirs(layout.configs, exist_ok=True)
    body = redact({'models': models, 'datasets': datasets,
                   'work_dir': os.path.dirname(layout.root),
                   'accelerator': args.accelerator})
    write_atomic(os.path.join(layout.configs, f'{layout.stamp}.py'),
                 '# The resolved config of this run (types as registered names).\n'
                 + ''.join(f'{key} = {json.dumps(value, indent=4, default=str)}\n'
                           for key, value in body.items()))
    save_identity(layout, ident)


def print_dry_run(models, datasets, judges=()):
    from opencompass.utils.build import dataset_abbr, model_abbr
    from opencompass.utils.secrets import redact
    print(f'{len(models) * len(datasets)} task(s):')
    for m in models:
        for d in datasets:
            print(f'  {model_abbr(m)} / {dataset_abbr(d)}')
    print('models:')
    print(json.dumps(redact(models), indent=2, default=str))
    if judges:
        print('judge models:')
        print(json.dumps(redact(list(judges)), indent=2, default=str))
    print('datasets:')
    print(json.dumps(redact(datasets), indent=2, default=str))


def check_engines(models):
    """Every model's class resolves and its engine is installed, before any
    inference starts."""
    from opencompass.registry import resolve_type
    for model in models:
        cls = resolve_type(model['type'], 'model')
        getattr(cls, 'check_engine', lambda: None)()


def resolve_backends(spec):
    """'hf,openai' -> ['hf', 'openai']; 'auto' picks one and says why."""
    backends = []
    for name in (n.strip() for n in (spec or 'hf').split(',')):
        if name == 'auto':
            from opencompass.utils.auto_backend import choose_backend
            name, why = choose_backend()
            print(f'-a auto: using {name} ({why})')
        if name and name not in backends:
            backends.append(name)
    return backends or ['hf']


def run(args):
    from opencompass.utils.secrets import remember
    from opencompass.utils.validate import (validate_cli, validate_judges,
                                            validate_run)
    remember(args.api_key)
    remember(args.judge_api_key)
    validate_cli(args)
    models, datasets, cfg = gather(args)
    validate_run(models, datasets)
    apply_overrides(models, datasets, args)
    backends = resolve_backends(args.accelerator)
    converted = [switch_backend(models, b, args) for b in backends]
    all_models = [m for group in converted for m in group]
    datasets, judges = setup_judges(datasets, cfg, args, backends)
    validate_run(all_models, datasets)
    validate_judges(judges)
    if args.dry_run:
        print_dry_run(all_models, datasets, judges)
        return 0
    from opencompass.runners.local import eval_all, infer_all
    from opencompass.summarizers import summarize
    from opencompass.tasks.run_identity import identity
    from opencompass.runners.choose import choose_partitioner, choose_runner
    check_engines([*all_models, *judges])
    runner, partitioner = choose_runner(cfg, args), choose_partitioner(cfg, args)
    ident = identity(all_models, datasets)
    layout = open_run(args, cfg, ident)
    try:
        setup_logging(args.debug, layout.logs)
        logger.info('run folder: %s', layout.root)
        dump_config(layout, all_models, datasets, args, ident)
        for group in converted:  # one backend after another, same run folder
            infer_all(group, datasets, layout, runner=runner,
                      partitioner=partitioner)
        results = eval_all(all_models, datasets, layout)
        print(summarize(all_models, datasets, layout, cfg.get('summarizer')))
        print(f'\noutputs: {layout.root}')
        if len(backends) > 1:
            from opencompass.summarizers.compare import write_comparison
            print()
            print(write_comparison(backends, converted, datasets, layout))
    finally:
        layout.lock.release()
    return _exit_code(results)


EXIT_FAILED_SAMPLES = 3


def _exit_code(results):
    """0 when every sample has a prediction (and, when judged, a verdict);
    EXIT_FAILED_SAMPLES otherwise."""
    failed = sum(r.get('failed', 0) for r in results.values())
    total = sum(r.get('num_samples', 0) for r in results.values())
    if not failed:
        return 0
    print(f'\n{failed} of {total} samples failed (scored as wrong; see the '
          "'error' of each in results/); retry them with -r", file=sys.stderr)
    return EXIT_FAILED_SAMPLES


def _interrupt(signum, frame):
    """SIGTERM ends a run like Ctrl-C: workers stopped, predictions kept."""
    raise KeyboardInterrupt


def main(argv=None):
    args = build_parser().parse_args(argv)
    setup_logging(args.debug)
    from opencompass.utils.secrets import redact_text
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(args)
    except OpenCompassError as err:
        if args.debug:
            raise
        print(f'error: {redact_text(err)}', file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # output piped into `head`
        return 0
    except OSError as err:  # the disk, the work dir: the system said no
        if args.debug or err.errno is None:
            raise
        where = f' ({err.filename})' if err.filename else ''
        print(redact_text(f'error: {err.strerror}{where}; free space or fix the '
                          'permissions (or pass -w elsewhere), then resume '
                          'with -r'), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('interrupted: the predictions made so far are kept; resume with -r',
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == '__main__':
    sys.exit(main())
