from mmengine.config import read_base

from opencompass.datasets import (BBHDataset, BBHEvaluator, BBHEvaluator_mcq,
                                  bbh_mcq_postprocess)
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

with read_base():
    from .bbh_subset_settings import settings

# BBH, 3-shot chain of thought: each task's prompt from the data's
# lib_prompt/{task}.txt (the dataset's `cot_prompt` column), then the question.
# The question also asks for the answer to start with 'So the answer is'.
# 'opencompass/bbh' is read from $COMPASS_DATA_CACHE/data/BBH/data.
bbh_reader_cfg = dict(input_columns=['cot_prompt', 'input'],
                      output_column='target')

bbh_infer_cfg = dict(
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            dict(role='HUMAN',
                 prompt='Follow the given examples and answer the question.\n'
                 "{cot_prompt}\n\nQ: {input}\nA: Let's think step by step. "
                 'And you must give your final answer by starting with '
                 "'So the answer is' "),
        ])),
    retriever=dict(type=ZeroRetriever),
    inferencer=dict(type=GenInferencer, max_out_len=512))

bbh_mcq_eval_cfg = dict(
    evaluator=dict(type=BBHEvaluator_mcq),
    pred_role='BOT',
    pred_postprocessor=dict(type=bbh_mcq_postprocess),
    dataset_postprocessor=dict(type=bbh_mcq_postprocess))

bbh_free_form_eval_cfg = dict(evaluator=dict(type=BBHEvaluator), pred_role='BOT')

bbh_datasets = [
    dict(
        type=BBHDataset,
        path='opencompass/bbh',
        name=name,
        abbr='bbh-' + name,
        reader_cfg=bbh_reader_cfg,
        infer_cfg=bbh_infer_cfg,
        eval_cfg=bbh_mcq_eval_cfg if kind == 'mcq' else bbh_free_form_eval_cfg)
    for name, kind in settings
]
