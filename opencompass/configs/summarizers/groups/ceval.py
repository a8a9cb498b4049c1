"""C-Eval summary groups: the four categories, the 8 hardest subjects
(`ceval-hard`), the naive average over the 52 subjects (`ceval`) and the
average weighted by each subject's scored questions (`ceval-weighted`); the
same for the `ceval-test-` rows. Dataset abbrs are `ceval-<subject>`, as the
C-Eval dataset configs name them."""

_categories = {
    'stem': [
        'computer_network', 'operating_system', 'computer_architecture',
        'college_programming', 'college_physics', 'college_chemistry',
        'advanced_mathematics', 'probability_and_statistics',
        'discrete_mathematics', 'electrical_engineer', 'metrology_engineer',
        'high_school_mathematics', 'high_school_physics',
        'high_school_chemistry', 'high_school_biology',
        'middle_school_mathematics', 'middle_school_biology',
        'middle_school_physics', 'middle_school_chemistry',
        'veterinary_medicine',
    ],
    'social-science': [
        'college_economics', 'business_administration', 'marxism',
        'mao_zedong_thought', 'education_science', 'teacher_qualification',
        'high_school_politics', 'high_school_geography',
        'middle_school_politics', 'middle_school_geography',
    ],
    'humanities': [
        'modern_chinese_history', 'ideological_and_moral_cultivation', 'logic',
        'law', 'chinese_language_and_literature', 'art_studies',
        'professional_tour_guide', 'legal_professional',
        'high_school_chinese', 'high_school_history', 'middle_school_history',
    ],
    'other': [
        'civil_servant', 'sports_science', 'plant_protection',
        'basic_medicine', 'clinical_medicine', 'urban_and_rural_planner',
        'accountant', 'fire_engineer',
        'environmental_impact_assessment_engineer', 'tax_accountant',
        'physician',
    ],
}
_hard = [
    'advanced_mathematics', 'discrete_mathematics',
    'probability_and_statistics', 'college_chemistry', 'college_physics',
    'high_school_mathematics', 'high_school_chemistry', 'high_school_physics',
]

ceval_summary_groups = []
for _prefix in ('ceval', 'ceval-test'):
    _all = []
    for _category, _subjects in _categories.items():
        _names = [f'{_prefix}-{s}' for s in _subjects]
        _all += _names
        ceval_summary_groups.append({'name': f'{_prefix}-{_category}',
                                     'subsets': _names})
    ceval_summary_groups.append({'name': f'{_prefix}-hard',
                                 'subsets': [f'{_prefix}-{s}' for s in _hard]})
    ceval_summary_groups.append({'name': _prefix, 'subsets': _all})
    ceval_summary_groups.append({'name': f'{_prefix}-weighted',
                                 'subsets': _all, 'weights': 'num_samples'})
