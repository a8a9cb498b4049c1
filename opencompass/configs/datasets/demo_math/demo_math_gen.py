from opencompass.datasets import (DemoMathDataset, Gsm8kEvaluator,
                                  gsm8k_dataset_postprocess, gsm8k_postprocess)
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

# Short original word problems shipped inside the package: the demo needs no data.
demo_math_reader_cfg = dict(input_columns=['question'], output_column='answer')

demo_math_infer_cfg = dict(
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(round=[
            dict(role='HUMAN',
                 prompt='{question}\nAnswer with the final number.'),
        ])),
    retriever=dict(type=ZeroRetriever),
    inferencer=dict(type=GenInferencer, max_out_len=64),
)

demo_math_eval_cfg = dict(
    evaluator=dict(type=Gsm8kEvaluator),
    pred_postprocessor=dict(type=gsm8k_postprocess),
    dataset_postprocessor=dict(type=gsm8k_dataset_postprocess),
)

demo_math_datasets = [
    dict(abbr='demo-math', type=DemoMathDataset, path='demo_math',
         reader_cfg=demo_math_reader_cfg, infer_cfg=demo_math_infer_cfg,
         eval_cfg=demo_math_eval_cfg)
]
