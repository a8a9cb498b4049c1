"""Tiny multiple-choice data in the OpenCompass layout, written for the tests
(original questions), so every loader runs without the shared data folder."""
import csv
import json

MMLU = {
    'astronomy': [
        ('Which planet is closest to the Sun?', 'Venus', 'Mercury', 'Mars',
         'Earth', 'B'),
        ('What is the Moon?', 'A star', 'A comet', 'A natural satellite',
         'A planet', 'C'),
        ('What makes stars shine?', 'Nuclear fusion', 'Burning coal',
         'Reflected light', 'Friction', 'A'),
        ('What is a light-year a measure of?', 'Time', 'Distance', 'Speed',
         'Brightness', 'B'),
        ('Which planet has the most prominent rings?', 'Mars', 'Venus',
         'Saturn', 'Mercury', 'C'),
    ],
    'anatomy': [
        ('How many chambers does the human heart have?', 'Two', 'Three',
         'Four', 'Five', 'C'),
        ('Which organ filters blood to make urine?', 'Liver', 'Kidney',
         'Lung', 'Stomach', 'B'),
        ('Where is the femur?', 'Arm', 'Skull', 'Chest', 'Thigh', 'D'),
        ('Which blood cells carry oxygen?', 'Red blood cells', 'Platelets',
         'White blood cells', 'Plasma cells', 'A'),
        ('What protects the brain?', 'The ribs', 'The pelvis', 'The skull',
         'The spine', 'C'),
    ],
}

ARC = [
    {'id': 'q1', 'question': {'stem': 'Which of these is a liquid at room '
                              'temperature?', 'choices': [
                                  {'text': 'iron', 'label': 'A'},
                                  {'text': 'water', 'label': 'B'},
                                  {'text': 'salt', 'label': 'C'},
                                  {'text': 'sand', 'label': 'D'}]},
     'answerKey': 'B'},
    {'id': 'q2', 'question': {'stem': 'What do plants need to make food?',
                              'choices': [{'text': 'darkness', 'label': '1'},
                                          {'text': 'sunlight', 'label': '2'},
                                          {'text': 'plastic', 'label': '3'},
                                          {'text': 'noise', 'label': '4'}]},
     'answerKey': '2'},
    {'id': 'q3', 'question': {'stem': 'A three-option question is dropped.',
                              'choices': [{'text': 'a', 'label': 'A'},
                                          {'text': 'b', 'label': 'B'},
                                          {'text': 'c', 'label': 'C'}]},
     'answerKey': 'A'},
    {'id': 'q4', 'question': {'stem': 'What pulls objects toward the Earth?',
                              'choices': [{'text': 'magnetism', 'label': 'A'},
                                          {'text': 'wind', 'label': 'B'},
                                          {'text': 'gravity', 'label': 'C'},
                                          {'text': 'light', 'label': 'D'}]},
     'answerKey': 'C'},
]


def write_mmlu(root):
    """<root>/data/mmlu/{dev,test}/<subject>_<split>.csv"""
    for split in ('dev', 'test'):
        folder = root / 'data' / 'mmlu' / split
        folder.mkdir(parents=True, exist_ok=True)
        for subject, rows in MMLU.items():
            with open(folder / f'{subject}_{split}.csv', 'w', newline='',
                      encoding='utf-8') as f:
                csv.writer(f).writerows(rows)
    return root / 'data' / 'mmlu'


def write_arc(root):
    """<root>/data/ARC/ARC-{c,e}/ARC-{Challenge,Easy}-{Dev,Test}.jsonl"""
    for sub, name in (('ARC-c', 'Challenge'), ('ARC-e', 'Easy')):
        folder = root / 'data' / 'ARC' / sub
        folder.mkdir(parents=True, exist_ok=True)
        for split in ('Dev', 'Test'):
            with open(folder / f'ARC-{name}-{split}.jsonl', 'w') as f:
                f.writelines(json.dumps(r) + '\n' for r in ARC)
    return root / 'data' / 'ARC'

HELLASWAG = [
    ('Making tea', 'A man fills a kettle with water. He', [
        'puts the kettle on the stove and waits.', 'throws the kettle away.',
        'paints the kettle blue.', 'sings to the kettle loudly.'], 0),
    ('Riding a bike', 'A girl puts on her helmet. She', [
        'eats the helmet.', 'climbs on the bike and starts pedalling.',
        'buries the bike in sand.', 'reads the helmet a story.'], 1),
    ('Washing dishes', 'A woman stands at the sink with dirty plates. She', [
        'frames the plates.', 'mails the plates abroad.',
        'scrubs each plate with soapy water.', 'plants the plates.'], 2),
]

CEVAL_HEADER = ['id', 'question', 'A', 'B', 'C', 'D', 'answer', 'explanation']
CEVAL = {
    'computer_network': [
        ('HTTP 默认使用哪个端口？', '21', '25', '80', '110', 'C'),
        ('IP 地址 IPv4 有多少位？', '16', '32', '64', '128', 'B'),
        ('哪一层负责路由选择？', '网络层', '物理层', '会话层', '表示层', 'A'),
        ('TCP 是什么类型的协议？', '无连接', '面向连接', '广播', '组播', 'B'),
        ('DNS 的作用是？', '加密', '压缩', '域名解析', '路由', 'C'),
    ],
    'logic': [
        ('若所有甲都是乙，某物是甲，则它？', '不是乙', '是乙', '不确定', '是丙', 'B'),
        ('"非非P"等价于？', 'P', '非P', '真', '假', 'A'),
        ('矛盾律说的是？', 'P或非P', '非(P且非P)', 'P蕴含P', 'P等于P', 'B'),
        ('三段论有几个命题？', '一', '二', '三', '四', 'C'),
        ('"有的S是P"是什么判断？', '全称肯定', '全称否定', '特称否定', '特称肯定', 'D'),
    ],
}


def write_hellaswag(root):
    """<root>/data/hellaswag/{hellaswag,hellaswag_train_sampled25}.jsonl"""
    folder = root / 'data' / 'hellaswag'
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({'query': f'{activity}: {ctx}', 'choices': endings,
                         'gold': gold}) + '\n'
             for activity, ctx, endings, gold in HELLASWAG]
    (folder / 'hellaswag.jsonl').write_text(''.join(lines))
    (folder / 'hellaswag_train_sampled25.jsonl').write_text(''.join(lines * 4))
    return folder


def write_ceval(root):
    """<root>/data/ceval/formal_ceval/{dev,val,test}/<subject>_<split>.csv"""
    base = root / 'data' / 'ceval' / 'formal_ceval'
    for split, rows in (('dev', slice(0, 5)), ('val', slice(0, 3)),
                        ('test', slice(3, 5))):
        folder = base / split
        folder.mkdir(parents=True, exist_ok=True)
        for subject, items in CEVAL.items():
            header = CEVAL_HEADER if split == 'dev' else (
                CEVAL_HEADER[:7] if split == 'val' else CEVAL_HEADER[:6])
            with open(folder / f'{subject}_{split}.csv', 'w', newline='',
                      encoding='utf-8') as f:
                writer = csv.writer(f)
                writer.writerow(header)
                for i, item in enumerate(items[rows]):
                    row = [i, *item, '因为如此。']
                    writer.writerow(row[:len(header)])
    return base
