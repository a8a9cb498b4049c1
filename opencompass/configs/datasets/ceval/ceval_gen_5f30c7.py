from mmengine.config import read_base

from opencompass.datasets import CEvalDataset
from opencompass.openicl.icl_evaluator import AccEvaluator
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever
from opencompass.utils.text_postprocessors import first_capital_postprocess

with read_base():
    from .ceval_subjects import ceval_all_sets, ceval_subject_mapping

# C-Eval by generation, 5-shot from each subject's dev split, scored on val
# (`ceval-<subject>`) and test (`ceval-test-<subject>`: C-Eval publishes no
# test answers, so those rows score only predictions you submit yourself).
# Data: 'opencompass/ceval-exam' = $COMPASS_DATA_CACHE/data/ceval/formal_ceval
ceval_datasets = []
for _split in ['val', 'test']:
    for _name in ceval_all_sets:
        _ask = (f'以下是中国关于{ceval_subject_mapping[_name][1]}考试的单项选择题，'
                '请选出其中的正确答案。\n{question}\nA. {A}\nB. {B}\nC. {C}\n'
                'D. {D}\n答案: ')
        ceval_infer_cfg = dict(
            ice_template=dict(
                type=PromptTemplate, ice_token='</E>',
                template=dict(begin='</E>', round=[
                    dict(role='HUMAN', prompt=_ask),
                    dict(role='BOT', prompt='{answer}'),
                ])),
            retriever=dict(type=FixKRetriever, fix_id_list=[0, 1, 2, 3, 4]),
            inferencer=dict(type=GenInferencer),
        )
        ceval_eval_cfg = dict(
            evaluator=dict(type=AccEvaluator),
            pred_postprocessor=dict(type=first_capital_postprocess))
        ceval_datasets.append(dict(
            type=CEvalDataset, path='opencompass/ceval-exam', name=_name,
            abbr=('ceval-' if _split == 'val' else 'ceval-test-') + _name,
            reader_cfg=dict(input_columns=['question', 'A', 'B', 'C', 'D'],
                            output_column='answer', train_split='dev',
                            test_split=_split),
            infer_cfg=ceval_infer_cfg, eval_cfg=ceval_eval_cfg))

del _split, _name, _ask
