"""Where a judged dataset's judge comes from, and which backend it runs on.

A judged evaluator (`GenericLLMEvaluator`, also inside a `CascadeEvaluator`)
holds its judge as a model dict, `judge_cfg`. Upstream configs often leave it
empty (`judge_cfg=dict()`) and name the judge elsewhere. The judge of each
judged evaluator is, first found first:

1. the command line: `--judge-hf-path PATH`, or `--judge-api-base URL`
   (+ `--judge-api-model`, `--judge-api-key`) for an OpenAI-compatible server;
2. the evaluator's own non-empty `judge_cfg`;
3. the config's `judge_models` (top level, `eval.judge_models` or upstream's
   `eval.partitioner.judge_models`): the first one;
4. upstream's environment default: $OC_JUDGE_MODEL, $OC_JUDGE_API_BASE,
   $OC_JUDGE_API_KEY (an OpenAI-compatible judge).

A judged dataset with none of these is one ConfigError before inference.
Judges then go through `change_accelerator` like the evaluated models, to the
first `-a` backend or to `--judge-accelerator`'s.
"""
import copy
import logging
import os

from opencompass.errors import ConfigError
from opencompass.registry import type_name
from opencompass.utils.build import dataset_abbr, model_abbr
from opencompass.utils.config import normalize_types

logger = logging.getLogger(__name__)

JUDGED_EVALUATORS = ('GenericLLMEvaluator', )
CLI_JUDGE_BATCH_SIZE = 8
CLI_JUDGE_MAX_OUT_LEN = 512


# ---- finding judged evaluators ---------------------------------------------
def judged_evaluators(dataset_cfg):
    """The evaluator dicts of a dataset that need a judge (live references
    into `dataset_cfg`, so filling them fills the dataset)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if type_name(node.get('type')) in JUDGED_EVALUATORS:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(dataset_cfg.get('eval_cfg') or {})
    return found


def judge_models(datasets):
    """Every distinct judge model dict of the datasets, in order."""
    seen, out = set(), []
    for dataset in datasets:
        for ev in judged_evaluators(dataset):
            cfg = ev.get('judge_cfg') or {}
            key = repr(normalize_types(cfg))
            if cfg and key not in seen:
                seen.add(key)
                out.append(cfg)
    return out


# ---- the sources of a judge -----------------------------------------------
def config_judges(cfg):
    """The config's judge models (upstream's `judge_models`), normalized."""
    eval_cfg = (cfg or {}).get('eval') or {}
    for found in ((cfg or {}).get('judge_models'), eval_cfg.get('judge_models'),
                  (eval_cfg.get('partitioner') or {}).get('judge_models')):
        if found:
            if isinstance(found, dict):
                found = [found]
            if not isinstance(found, (list, tuple)) or not all(
                    isinstance(m, dict) for m in found):
                raise ConfigError('judge_models: expected a list of model '
                                  'dicts, as models = [...]')
            return normalize_types(list(found))
    return []


def cli_judge(args):
    """The judge the command line names, or None."""
    hf_path = getattr(args, 'judge_hf_path', None)
    api_base = getattr(args, 'judge_api_base', None)
    max_out_len = getattr(args, 'judge_max_out_len', None) or \
        CLI_JUDGE_MAX_OUT_LEN
    if hf_path and api_base:
        raise ConfigError('give one judge: --judge-hf-path or --judge-api-base, '
                          'not both')
    if getattr(args, 'judge_api_model', None) and not api_base:
        raise ConfigError('--judge-api-model needs --judge-api-base (the server '
                          'that serves the judge)')
    if hf_path:
        name = os.path.basename(hf_path.rstrip('/')).replace('embedded://', '')
        return dict(type='HuggingFacewithChatTemplate', abbr=f'{name}-hf',
                    path=hf_path, max_out_len=max_out_len,
                    batch_size=CLI_JUDGE_BATCH_SIZE, run_cfg=dict(num_gpus=1))
    if api_base:
        return api_judge(api_base, getattr(args, 'judge_api_model', None),
                         getattr(args, 'judge_api_key', None), max_out_len)
    return None


def api_judge(api_base, api_model=None, key=None, max_out_len=None):
    """An OpenAISDK judge dict; a key from the environment stays there."""
    return dict(type='OpenAISDK', abbr=f'{api_model or "judge"}-api',
                path=api_model, openai_api_base=api_base,
                key=key or ('ENV' if os.environ.get('OPENAI_API_KEY') else
                            'EMPTY'),
                max_out_len=max_out_len or CLI_JUDGE_MAX_OUT_LEN,
                batch_size=CLI_JUDGE_BATCH_SIZE, temperature=0)


def env_judge():
    """Upstream's default judge from $OC_JUDGE_MODEL (and friends), or None."""
    model = os.environ.get('OC_JUDGE_MODEL')
    if not model:
        return None
    judge = api_judge(os.environ.get('OC_JUDGE_API_BASE',
                                     'https://api.openai.com/v1'), model)
    if os.environ.get('OC_JUDGE_API_KEY'):
        from opencompass.utils.secrets import remember
        remember(os.environ['OC_JUDGE_API_KEY'])
        judge['key'] = os.environ['OC_JUDGE_API_KEY']
    return judge


def resolve_judges(datasets, cfg=None, args=None):
    """Copies of `datasets` in which every judged evaluator has its judge
    (see the module docstring for the order); ConfigError for a judged
    dataset without one."""
    datasets = copy.deepcopy(datasets)
    from_cli = cli_judge(args) if args is not None else None
    from_config = config_judges(cfg)
    if len(from_config) > 1:
        logger.warning('judge_models lists %d models; the first (%s) judges',
                       len(from_config), model_abbr(from_config[0]))
    fallback = from_config[0] if from_config else None
    for dataset in datasets:
        for ev in judged_evaluators(dataset):
            judge = from_cli or ev.get('judge_cfg') or fallback or env_judge()
            if not judge:
                raise ConfigError(
                    f'dataset {dataset_abbr(dataset)} is scored by an LLM judge '
                    '(GenericLLMEvaluator) but no judge is set: pass '
                    '--judge-hf-path PATH or --judge-api-base URL, or set '
                    'judge_cfg in its evaluator or judge_models in the config')
            ev['judge_cfg'] = normalize_types(copy.deepcopy(dict(judge)))
    return datasets


# ---- the judge's backend ----------------------------------------------------
def convert_judges(datasets, backend, api_base=None, api_key=None,
                   api_model=None, server_type=None):
    """Copies of `datasets` whose judges run on `backend` (change_accelerator,
    the same rules as the evaluated models)."""
    from opencompass.errors import UnknownModelTypeError
    from opencompass.utils.run import change_accelerator
    datasets = copy.deepcopy(datasets)
    for dataset in datasets:
        for ev in judged_evaluators(dataset):
            if not ev.get('judge_cfg'):
                continue
            try:
                ev['judge_cfg'] = change_accelerator(
                    [ev['judge_cfg']], backend, api_base=api_base,
                    api_key=api_key, api_model=api_model,
                    server_type=server_type)[0]
            except UnknownModelTypeError as err:
                raise UnknownModelTypeError(
                    f'the judge of dataset {dataset_abbr(dataset)}: {err}; or '
                    'keep the judge where it is with --judge-accelerator hf'
                ) from None
    return datasets
