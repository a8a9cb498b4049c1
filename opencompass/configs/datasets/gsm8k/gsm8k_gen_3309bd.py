from opencompass.datasets import (GSM8KDataset, Gsm8kEvaluator,
                                  gsm8k_dataset_postprocess, gsm8k_postprocess)
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

# GSM8K, 4-shot chain of thought in chat rounds. The shots are train
# problems [7364, 1708, 669, 6724], shown as worked solutions ending 'The answer is N'
# (the dataset's `cot_answer` column). Generation stops at ':' or
# 'Question'.
gsm8k_reader_cfg = dict(input_columns=['question'], output_column='answer')

gsm8k_infer_cfg = dict(
    ice_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            dict(role='HUMAN', prompt="Question: {question}\nLet's think step by step\nAnswer:"),
            dict(role='BOT', prompt='{cot_answer}\n'),
        ])),
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(begin='</E>', round=[
            dict(role='HUMAN', prompt="Question: {question}\nLet's think step by step\nAnswer:"),
        ]),
        ice_token='</E>'),
    retriever=dict(type=FixKRetriever, fix_id_list=[7364, 1708, 669, 6724]),
    inferencer=dict(type=GenInferencer, max_out_len=512, stopping_criteria=[':', 'Question:', 'Question']))

gsm8k_eval_cfg = dict(
    evaluator=dict(type=Gsm8kEvaluator),
    pred_postprocessor=dict(type=gsm8k_postprocess),
    dataset_postprocessor=dict(type=gsm8k_dataset_postprocess))

gsm8k_datasets = [
    dict(
        abbr='gsm8k',
        type=GSM8KDataset,
        path='opencompass/gsm8k',
        reader_cfg=gsm8k_reader_cfg,
        infer_cfg=gsm8k_infer_cfg,
        eval_cfg=gsm8k_eval_cfg)
]
