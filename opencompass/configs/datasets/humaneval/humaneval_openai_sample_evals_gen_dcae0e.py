from opencompass.datasets import (HumanevalDataset, HumanEvalEvaluator,
                                  humaneval_postprocess_v2)
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

# HumanEval, pass@1. The model's code runs sandboxed (own process, time, memory
# and process limits, no network). 'opencompass/humaneval' is read from
# $COMPASS_DATA_CACHE/data/humaneval/human-eval-v2-20210705.jsonl.
humaneval_reader_cfg = dict(
    input_columns=['prompt'], output_column='task_id', train_split='test')

humaneval_infer_cfg = dict(
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            dict(role='HUMAN', prompt='Read the following function signature and docstring, '
                 'and fully implement the function described. Your response '
                 'should only contain the code for this function.\n{prompt}'),
        ])),
    retriever=dict(type=ZeroRetriever),
    inferencer=dict(type=GenInferencer))

humaneval_eval_cfg = dict(
    evaluator=dict(type=HumanEvalEvaluator),
    pred_role='BOT',
    pred_postprocessor=dict(type=humaneval_postprocess_v2),
)

humaneval_datasets = [
    dict(
        abbr='openai_humaneval',
        type=HumanevalDataset,
        path='opencompass/humaneval',
        reader_cfg=humaneval_reader_cfg,
        infer_cfg=humaneval_infer_cfg,
        eval_cfg=humaneval_eval_cfg)
]
