from opencompass.datasets import HellaswagDatasetwithICE
from opencompass.openicl.icl_evaluator import AccwithDetailsEvaluator
from opencompass.openicl.icl_inferencer import PPLInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

# HellaSwag by perplexity, 10-shot (base models): each example shows its
# context and correct ending; the test context is scored with every ending.
hellaswag_reader_cfg = dict(input_columns=['ctx', 'A', 'B', 'C', 'D'],
                            output_column='label', train_split='train',
                            test_split='val')

_hint = ('Continue the following text without adding any additional '
         'information or formatting:\n')

hellaswag_infer_cfg = dict(
    ice_template=dict(
        type=PromptTemplate,
        template={
            letter: dict(round=[
                dict(role='HUMAN', prompt='{ctx}'),
                dict(role='BOT', prompt='{%s}\n' % letter),
            ])
            for letter in 'ABCD'
        }),
    prompt_template=dict(
        type=PromptTemplate,
        template={
            letter: dict(
                begin=[dict(role='HUMAN', prompt=_hint), '</E>'],
                round=[
                    dict(role='HUMAN', prompt='{ctx}'),
                    dict(role='BOT', prompt='{%s}' % letter),
                ])
            for letter in 'ABCD'
        },
        ice_token='</E>'),
    retriever=dict(type=FixKRetriever, fix_id_list=list(range(10))),
    inferencer=dict(type=PPLInferencer),
)

hellaswag_eval_cfg = dict(evaluator=dict(type=AccwithDetailsEvaluator))

hellaswag_datasets = [
    dict(abbr='hellaswag', type=HellaswagDatasetwithICE,
         path='opencompass/hellaswag_ice', reader_cfg=hellaswag_reader_cfg,
         infer_cfg=hellaswag_infer_cfg, eval_cfg=hellaswag_eval_cfg)
]
