# MATH-500, 0-shot, scored by a rule first (math-verify) and by an LLM judge
# for the answers the rule rejects (CascadeEvaluator, parallel=False).
from mmengine.config import read_base

from opencompass.datasets import MATHDataset, generic_llmjudge_postprocess
from opencompass.evaluator import (CascadeEvaluator, GenericLLMEvaluator,
                                   MATHVerifyEvaluator)

with read_base():
    from .math_prm800k_500_0shot_nocot_genericllmeval_gen_6ff468 import (
        math_infer_cfg, math_judge_template, math_reader_cfg)

math_cascade_evaluator = dict(
    type=CascadeEvaluator,
    rule_evaluator=dict(type=MATHVerifyEvaluator),
    llm_evaluator=dict(
        type=GenericLLMEvaluator,
        prompt_template=math_judge_template,
        dataset_cfg=dict(type=MATHDataset, path='opencompass/math',
                         file_name='test_prm800k_500.json',
                         reader_cfg=math_reader_cfg),
        judge_cfg=dict(),
        dict_postprocessor=dict(type=generic_llmjudge_postprocess),
    ),
    parallel=False,
)

math_datasets = [
    dict(
        type=MATHDataset,
        abbr='math_prm800k_500',
        path='opencompass/math',
        file_name='test_prm800k_500.json',
        reader_cfg=math_reader_cfg,
        infer_cfg=math_infer_cfg,
        eval_cfg=dict(evaluator=math_cascade_evaluator),
        n=1,
    )
]
