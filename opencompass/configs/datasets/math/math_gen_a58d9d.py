from mmengine.config import read_base

from opencompass.datasets import MATHDataset
from opencompass.evaluator import MATHVerifyEvaluator
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

with read_base():
    from .math_4shot_example_from_google_research import examples

# MATH, 4-shot chat rounds (Minerva's examples); the raw output is scored by
# math-verify against the reference answer.
math_reader_cfg = dict(input_columns=['problem'], output_column='solution')

math_infer_cfg = dict(
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            *[item for problem, solution in examples for item in (
                dict(role='HUMAN', prompt=f'Problem:\n{problem}\nSolution:'),
                dict(role='BOT', prompt=solution + '\n'))],
            dict(role='HUMAN', prompt='Problem:\n{problem}\nSolution:\n'),
        ])),
    retriever=dict(type=ZeroRetriever),
    inferencer=dict(type=GenInferencer, max_out_len=1024))

math_eval_cfg = dict(
    evaluator=dict(type=MATHVerifyEvaluator))

math_datasets = [
    dict(
        type=MATHDataset,
        abbr='math',
        path='opencompass/math',
        reader_cfg=math_reader_cfg,
        infer_cfg=math_infer_cfg,
        eval_cfg=math_eval_cfg)
]
