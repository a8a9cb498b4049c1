from opencompass.datasets import (GSM8KDataset, Gsm8kEvaluator,
                                  gsm8k_dataset_postprocess, gsm8k_postprocess)
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

# GSM8K, 4-shot direct answers in chat rounds: train problems [7364, 1708, 669, 6724],
# each answered 'The answer is N' (the dataset's `final_answer` column).
gsm8k_reader_cfg = dict(input_columns=['question'], output_column='answer')

gsm8k_infer_cfg = dict(
    ice_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            dict(role='HUMAN', prompt="Question: {question}\nPlease provide your answer directly without "
                 "additional reasoning steps. Format your answer as "
                 "'The answer is (insert answer here)'\nAnswer:"),
            dict(role='BOT', prompt='The answer is {final_answer}\n'),
        ])),
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(begin='</E>', round=[
            dict(role='HUMAN', prompt="Question: {question}\nPlease provide your answer directly without "
                 "additional reasoning steps. Format your answer as "
                 "'The answer is (insert answer here)'\nAnswer:"),
        ]),
        ice_token='</E>'),
    retriever=dict(type=FixKRetriever, fix_id_list=[7364, 1708, 669, 6724]),
    inferencer=dict(type=GenInferencer, max_out_len=512))

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
