from opencompass.datasets import (GSM8KDataset, Gsm8kEvaluator,
                                  gsm8k_dataset_postprocess, gsm8k_postprocess)
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

# Zero-shot GSM8K for chat models. 'opencompass/gsm8k' is read from
# $COMPASS_DATA_CACHE/data/gsm8k (test.jsonl, train.jsonl); a folder path works too.
gsm8k_reader_cfg = dict(input_columns=['question'], output_column='answer')

gsm8k_infer_cfg = dict(
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            dict(role='HUMAN',
                 prompt="{question}\nLet's think step by step. End with: "
                 'The answer is <number>.'),
        ])),
    retriever=dict(type=ZeroRetriever),
    inferencer=dict(type=GenInferencer),
)

gsm8k_eval_cfg = dict(
    evaluator=dict(type=Gsm8kEvaluator),
    pred_postprocessor=dict(type=gsm8k_postprocess),
    dataset_postprocessor=dict(type=gsm8k_dataset_postprocess),
)

gsm8k_datasets = [
    dict(abbr='gsm8k', type=GSM8KDataset, path='opencompass/gsm8k',
         reader_cfg=gsm8k_reader_cfg, infer_cfg=gsm8k_infer_cfg,
         eval_cfg=gsm8k_eval_cfg)
]
