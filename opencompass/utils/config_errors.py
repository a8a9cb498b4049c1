"""Turn the ways a Python config fails to load into one line that says where and
what to use instead.

mmengine reports these failures in its own words, if at all: a missing name in
`from opencompass.x import Name` surfaces only when the value is first used
(its lazy import), a missing base config is a long "not found!" paragraph, a
missing name in a base config is a bare KeyError, and a call of a lazily
imported function at config level is an empty RuntimeError. Each function here
takes the failure apart and names the name, the file and line, and the nearest
names that do exist.
"""
import ast
import difflib
import importlib
import os
import re
import traceback

_LAZY_TYPES = ('LazyObject', 'LazyAttr')


def nearest(name, candidates, n=3):
    """The closest spellings of `name` among `candidates`, as 'a, b, c'."""
    close = difflib.get_close_matches(str(name), sorted(set(candidates)), n=n,
                                      cutoff=0.5)
    return ', '.join(close)


def _where(location):
    """'FILE, line N' (mmengine's location) -> 'FILE line N'."""
    return str(location or '?').replace(', line', ' line')


def module_names(module_name):
    """Public names of a module, including lazily exported ones (`__dir__`)."""
    try:
        module = importlib.import_module(module_name)
    except Exception:  # the module itself is the problem
        return []
    return [n for n in dir(module) if not n.startswith('_')]


def sibling_modules(module_name):
    """Modules next to `module_name` (for a mistyped module path)."""
    parent = module_name.rpartition('.')[0]
    if not parent:
        return []
    try:
        import pkgutil
        package = importlib.import_module(parent)
    except Exception:
        return sibling_modules(parent)
    paths = getattr(package, '__path__', [])
    return [f'{parent}.{m.name}' for m in pkgutil.iter_modules(paths)]


def missing_import(name, module, location):
    """`from module import name` where module has no such name (or no module)."""
    if name is None:
        hint = nearest(module, sibling_modules(module))
        what = f'no module named {module}'
    else:
        hint = nearest(name, module_names(module))
        what = f'{module} has no {name}'
        if not module_names(module):
            what = f'{module} cannot be imported'
            hint = nearest(module, sibling_modules(module))
    if hint:
        hint = f'; nearest: {hint}'
    elif module == 'opencompass.models':
        hint = ('; this project does not support that model type; it has: ' +
                ', '.join(n for n in module_names(module) if n != 'BaseModel'))
    else:
        hint = '; this project does not have it'
    return f'config {_where(location)}: {what}{hint}'


def check_lazy_imports(value):
    """Resolve every lazily imported name in a loaded config, so a mistyped import
    fails here (and under --dry-run) rather than when the object is first built.
    Returns an error line, or None when every import resolves."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item).__name__ in _LAZY_TYPES:
            error = _build_lazy(item)
            if error:
                return error
        elif isinstance(item, dict):
            stack.extend(dict.values(item))
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


def _build_lazy(obj):
    try:
        obj.build()
        return None
    except Exception:  # ImportError, ModuleNotFoundError, AttributeError
        pass
    if type(obj).__name__ == 'LazyAttr':
        return missing_import(obj.name, obj.module, obj.location)
    module = obj._module if isinstance(obj._module, str) else obj._module[0]
    if obj._imported is not None and importlib.util.find_spec(
            module.split('.')[0]) is not None and module_names(module):
        return missing_import(obj._imported, module, obj.location)
    return missing_import(None, module, obj.location)


_FAILED_FROM = re.compile(r'Failed to import (\S+) from (\S+) in (.+, line \d+)')
_FAILED_MODULE = re.compile(r'Failed to import (\S+) in (.+, line \d+)')
_NOT_FOUND = re.compile(r'(\S+\.py) not found! .*from (\S+) import')


def explain(err, path):
    """One line for an exception raised while mmengine loads `path`, or None
    when the failure is not one of the known shapes."""
    text = str(err)
    m = _FAILED_FROM.search(text)
    if m:
        return missing_import(m.group(1), m.group(2), m.group(3))
    m = _FAILED_MODULE.search(text)
    if m:
        return missing_import(None, m.group(1), m.group(2))
    m = _NOT_FOUND.search(' '.join(text.split()))
    if m:
        return _missing_base(m.group(1), m.group(2), path)
    if isinstance(err, KeyError) and err.args:
        return _missing_base_name(str(err.args[0]), path)
    if isinstance(err, RuntimeError) and not text.strip():
        return _lazy_call(err, path)
    return None


def _find_line(path, needle):
    """(file, line) of the first line of `path` containing `needle`."""
    try:
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                if needle in line:
                    return f'{path} line {lineno}'
    except OSError:
        pass
    return path


def _missing_base(file, module, path):
    folder = os.path.dirname(file)
    stems = [f[:-3] for f in os.listdir(folder) if f.endswith('.py')] if \
        os.path.isdir(folder) else []
    stem = os.path.basename(file)[:-3]
    hint = nearest(stem, stems)
    hint = f'; nearest: {hint}' if hint else (
        f'; no such folder {folder}' if not os.path.isdir(folder) else '')
    return (f'config {_find_line(path, module)}: base config {module} does not '
            f'exist ({file}){hint}')


def _base_files(path):
    """{imported name: base config file} of the read_base() imports in `path`."""
    from opencompass.utils.mmengine_compat import package_folder
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.level:
            base = os.path.join(os.path.dirname(path), *['..'] * (node.level - 1),
                                *node.module.split('.')) + '.py'
        else:
            parts = node.module.split('.')
            try:
                base = os.path.join(package_folder(parts[0]), *parts[1:]) + '.py'
            except ModuleNotFoundError:
                continue
        if os.path.isfile(base):
            for alias in node.names:
                found[alias.name] = (base, node.lineno)
    return found


def _top_level_names(file):
    try:
        with open(file, encoding='utf-8') as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError):
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif isinstance(node, ast.alias):
            names.append(node.asname or node.name)
    return [n for n in names if not n.startswith('_')]


def _missing_base_name(name, path):
    """A read_base() import of a name the base config does not define."""
    bases = _base_files(path)
    if name not in bases:
        return None
    base, lineno = bases[name]
    hint = nearest(name, _top_level_names(base))
    hint = f'; nearest: {hint}' if hint else ''
    return (f'config {path} line {lineno}: {_short(base)} defines no '
            f'{name}{hint}')


def _short(file):
    """`file` relative to the working folder when it lies below it."""
    rel = os.path.relpath(file)
    return file if rel.startswith('..') else rel


def _lazy_call(err, path):
    """An empty RuntimeError: a lazily imported object was called or used while
    the config ran. Name the call from the config's frame of the traceback."""
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if f.filename.endswith('.py') and 'mmengine' not in f.filename]
    if not frames:
        return None
    frame = frames[-1]
    called = ''
    try:
        calls = [n for n in ast.walk(ast.parse((frame.line or '').strip()))
                 if isinstance(n, ast.Call)]
        if calls:
            called = f' calls {ast.unparse(calls[0].func)}(),'
    except SyntaxError:
        pass
    return (f'config {frame.filename} line {frame.lineno}:{called} an object '
            'imported in a config that uses read_base() is only a placeholder '
            'while the config loads; build values with plain Python or the '
            'standard library there, or move the call into your own code')
