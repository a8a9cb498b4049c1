"""Where each public name lives, so `type=` may be a class, a short name or a dotted path.

Configs written for OpenCompass spell `type` four ways: the class itself (imported
in the config), a subclass, its short name ('HuggingFacewithChatTemplate') or a
dotted path ('opencompass.models.HuggingFacewithChatTemplate'). `resolve_type`
turns any of them into the class, importing only the module that holds it.
"""
import difflib
import importlib

from opencompass.errors import UnknownNameError

# short name -> 'module:attribute'. One table for every kind of buildable thing.
MODELS = {
    'BaseModel': 'opencompass.models.base:BaseModel',
    'HuggingFaceBaseModel': 'opencompass.models.huggingface:HuggingFaceBaseModel',
    'HuggingFace': 'opencompass.models.huggingface:HuggingFace',
    'HuggingFaceCausalLM': 'opencompass.models.huggingface:HuggingFaceCausalLM',
    'HuggingFaceChatGLM3': 'opencompass.models.huggingface:HuggingFaceChatGLM3',
    'HuggingFacewithChatTemplate':
    'opencompass.models.huggingface:HuggingFacewithChatTemplate',
    'VLLM': 'opencompass.models.vllm:VLLM',
    'VLLMwithChatTemplate': 'opencompass.models.vllm:VLLMwithChatTemplate',
    'TurboMindModel': 'opencompass.models.turbomind:TurboMindModel',
    'TurboMindModelwithChatTemplate':
    'opencompass.models.turbomind:TurboMindModelwithChatTemplate',
    'SGLang': 'opencompass.models.sglang:SGLang',
    'SGLangwithChatTemplate': 'opencompass.models.sglang:SGLangwithChatTemplate',
    'OpenAISDK': 'opencompass.models.openai_api:OpenAISDK',
    'OpenAI': 'opencompass.models.openai_api:OpenAI',
}

DATASETS = {
    'GSM8KDataset': 'opencompass.datasets.gsm8k:GSM8KDataset',
    'DemoMathDataset': 'opencompass.datasets.demo_math:DemoMathDataset',
    'gsm8k_postprocess': 'opencompass.datasets.gsm8k:gsm8k_postprocess',
    'gsm8k_dataset_postprocess':
    'opencompass.datasets.gsm8k:gsm8k_dataset_postprocess',
    'Gsm8kEvaluator': 'opencompass.datasets.gsm8k:Gsm8kEvaluator',
    # -- HumanEval, MATH, BBH --
    'HumanevalDataset': 'opencompass.datasets.humaneval:HumanevalDataset',
    'HumanEvalEvaluator': 'opencompass.datasets.humaneval:HumanEvalEvaluator',
    'humaneval_postprocess_v2':
    'opencompass.datasets.humaneval:humaneval_postprocess_v2',
    'MATHDataset': 'opencompass.datasets.math:MATHDataset',
    'MATHEvaluator': 'opencompass.datasets.math:MATHEvaluator',
    'MATHVerifyEvaluator': 'opencompass.datasets.math:MATHVerifyEvaluator',
    'math_postprocess': 'opencompass.datasets.math:math_postprocess',
    'math_postprocess_v2': 'opencompass.datasets.math:math_postprocess_v2',
    'normalize_final_answer':
    'opencompass.datasets.math_answer:normalize_final_answer',
    'last_boxed_only_string':
    'opencompass.datasets.math_answer:last_boxed_only_string',
    'is_equiv': 'opencompass.datasets.math_answer:is_equiv',
    'BBHDataset': 'opencompass.datasets.bbh:BBHDataset',
    'BBHEvaluator': 'opencompass.datasets.bbh:BBHEvaluator',
    'BBHEvaluator_mcq': 'opencompass.datasets.bbh:BBHEvaluator_mcq',
    'bbh_mcq_postprocess': 'opencompass.datasets.bbh:bbh_mcq_postprocess',
    'bbh_freeform_postprocess':
    'opencompass.datasets.bbh:bbh_freeform_postprocess',
    # -- end HumanEval, MATH, BBH --
    # -- multiple choice (issue 9: MMLU, ARC, HellaSwag, C-Eval) --
    'MMLUDataset': 'opencompass.datasets.mmlu:MMLUDataset',
    'ARCDataset': 'opencompass.datasets.arc:ARCDataset',
    'CEvalDataset': 'opencompass.datasets.ceval:CEvalDataset',
    **{name: f'opencompass.datasets.hellaswag:{name}' for name in (
        'HellaswagDataset', 'HellaswagDataset_V2', 'HellaswagDataset_V3',
        'HellaswagDatasetwithICE', 'hellaswagDataset', 'hellaswagDataset_V2',
        'hellaswagDataset_V3', 'hellaswagDatasetwithICE')},
    # -- end multiple choice --
    # -- LLM judge (issue 10) --
    'generic_llmjudge_postprocess':
    'opencompass.datasets.generic:generic_llmjudge_postprocess',
    'generic_llmjudge_academic_postprocess':
    'opencompass.datasets.generic:generic_llmjudge_academic_postprocess',
    # -- end LLM judge --
}

# Text postprocessors that configs name by `type=` (the module path is
# opencompass.utils.text_postprocessors, as upstream configs import it).
POSTPROCESSORS = {
    'first_option_postprocess':
    'opencompass.utils.text_postprocessors:first_option_postprocess',
    'first_capital_postprocess':
    'opencompass.utils.text_postprocessors:first_capital_postprocess',
    'match_answer_pattern':
    'opencompass.utils.text_postprocessors:match_answer_pattern',
}

OPENICL = {
    'PromptTemplate': 'opencompass.openicl.icl_prompt_template:PromptTemplate',
    'ZeroRetriever': 'opencompass.openicl.icl_retriever:ZeroRetriever',
    'FixKRetriever': 'opencompass.openicl.icl_retriever:FixKRetriever',
    'GenInferencer': 'opencompass.openicl.icl_inferencer:GenInferencer',
    'PPLInferencer': 'opencompass.openicl.icl_inferencer:PPLInferencer',
    'AccEvaluator': 'opencompass.openicl.icl_evaluator:AccEvaluator',
    'AccwithDetailsEvaluator':
    'opencompass.openicl.icl_evaluator:AccwithDetailsEvaluator',
    'GenericLLMEvaluator':
    'opencompass.evaluator.generic_llm_evaluator:GenericLLMEvaluator',
    'CascadeEvaluator': 'opencompass.evaluator.cascade_evaluator:CascadeEvaluator',
}

# Runners, partitioners and task types of an `infer` section (issue 11).
RUNNERS = {
    'LocalRunner': 'opencompass.runners.local:LocalRunner',
    'SlurmRunner': 'opencompass.runners.slurm:SlurmRunner',
    'SlurmSequentialRunner': 'opencompass.runners.slurm:SlurmRunner',
    'NaivePartitioner': 'opencompass.partitioners:NaivePartitioner',
    'NumWorkerPartitioner': 'opencompass.partitioners:NumWorkerPartitioner',
    'SizePartitioner': 'opencompass.partitioners:SizePartitioner',
    'OpenICLInferTask': 'opencompass.tasks.task_types:OpenICLInferTask',
    'OpenICLEvalTask': 'opencompass.tasks.task_types:OpenICLEvalTask',
}

REGISTRY = {**MODELS, **DATASETS, **POSTPROCESSORS, **OPENICL, **RUNNERS}


def import_target(target):
    """Import 'module:attr' and return the attribute."""
    module, _, attr = target.partition(':')
    return getattr(importlib.import_module(module), attr)


def type_name(type_):
    """The short name of a `type=` value, whatever its spelling (no import)."""
    if isinstance(type_, str):
        return type_.rsplit('.', 1)[-1].rsplit(':', 1)[-1]
    if type(type_).__name__ in ('LazyObject', 'LazyAttr'):
        # mmengine lazy imports answer any attribute lookup; their str() is
        # the imported name.
        return str(type_).rsplit('.', 1)[-1]
    return getattr(type_, '__name__', None) or str(type_)


def resolve_type(type_, kind='object'):
    """Turn a class, a LazyObject, a short name or a dotted path into the object."""
    if type(type_).__name__ in ('LazyObject', 'LazyAttr'):
        return type_.build()  # mmengine lazy import
    if callable(type_) and not isinstance(type_, str):
        return type_
    if not isinstance(type_, str):
        raise UnknownNameError(f'cannot use {type_!r} as a {kind} type; give a '
                               'class, its name or its dotted path')
    if type_ in REGISTRY:
        return import_target(REGISTRY[type_])
    if '.' in type_ or ':' in type_:
        module, _, attr = type_.replace(':', '.').rpartition('.')
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            pass
    close = difflib.get_close_matches(type_name(type_), list(REGISTRY), n=3)
    hint = f'; did you mean {", ".join(close)}?' if close else (
        f'; known {kind} types: {", ".join(sorted(REGISTRY))}')
    raise UnknownNameError(f'unknown {kind} type {type_!r}{hint}')


def build_from_cfg(cfg, kind='object', **extra):
    """Build `cfg['type'](**rest, **extra)` without mutating `cfg`."""
    cfg = dict(cfg)
    cls = resolve_type(cfg.pop('type'), kind)
    cfg.update(extra)
    return cls(**cfg)


def lazy_exports(module_name, table, namespace, extra=()):
    """PEP 562 hooks for a package that re-exports the names of `table`: each
    is imported from its own module on first access, then cached in the
    package's `namespace`. Returns (__getattr__, __dir__, __all__)."""
    names = sorted([*table, *extra])

    def __getattr__(name):
        if name in table:
            value = import_target(table[name])
            namespace[name] = value
            return value
        raise AttributeError(f'module {module_name!r} has no attribute {name!r}')

    return __getattr__, lambda: names, names
