from opencompass.datasets import (GSM8KDataset, Gsm8kEvaluator,
                                  gsm8k_dataset_postprocess, gsm8k_postprocess)
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

# 4-shot GSM8K for base models: four fixed solved examples from train.jsonl,
# then the question; generation stops before the model invents a new question.
gsm8k_reader_cfg = dict(input_columns=['question'], output_column='answer')

gsm8k_infer_cfg = dict(
    ice_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            dict(role='HUMAN', prompt='Question: {question}\nAnswer:'),
            dict(role='BOT', prompt=' {answer}\n'),
        ])),
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(begin='</E>', round=[
            dict(role='HUMAN', prompt='Question: {question}\nAnswer:'),
            dict(role='BOT', prompt='{answer}'),
        ]),
        ice_token='</E>'),
    retriever=dict(type=FixKRetriever, fix_id_list=[0, 1, 2, 3]),
    inferencer=dict(type=GenInferencer, stopping_criteria=['Question:']),
)

gsm8k_eval_cfg = dict(
    evaluator=dict(type=Gsm8kEvaluator),
    pred_postprocessor=dict(type=gsm8k_postprocess),
    dataset_postprocessor=dict(type=gsm8k_dataset_postprocess),
)

gsm8k_datasets = [
    dict(abbr='gsm8k-4shot', type=GSM8KDataset, path='opencompass/gsm8k',
         reader_cfg=gsm8k_reader_cfg, infer_cfg=gsm8k_infer_cfg,
         eval_cfg=gsm8k_eval_cfg)
]
