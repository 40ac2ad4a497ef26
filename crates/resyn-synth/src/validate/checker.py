# resyn static checker: parses a candidate module with `ast` (never executes
# it) and reports its imports, dangerous names and top-level API. Runs inside
# the sandbox like any environment; the candidate source is the SOURCE
# constant appended below this file by resyn.
import ast

NAME = "resyn_static_check"
CATEGORY = "logic"
DESCRIPTION = "resyn's static checker for candidate environment modules."

_NAMES = {"__import__", "eval", "exec", "compile", "open", "input", "breakpoint",
          "globals", "locals", "exit", "quit", "memoryview", "help"}
_ATTRS = {"__subclasses__", "__globals__", "__builtins__", "__code__", "__bases__",
          "__mro__", "__getattribute__", "__dict__", "__loader__", "__spec__",
          "f_globals", "f_back", "gi_frame", "tb_frame"}


def _analyse(source):
    try:
        tree = ast.parse(source, "candidate.py")
    except SyntaxError as e:
        return {"syntax": {"msg": str(e.msg), "line": e.lineno or 0, "col": e.offset or 0,
                           "text": (e.text or "").rstrip()}}
    except (ValueError, RecursionError, MemoryError) as e:
        return {"syntax": {"msg": "%s: %s" % (type(e).__name__, e), "line": 0, "col": 0,
                           "text": ""}}
    imports, forbidden = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                imports.append([a.name, node.lineno])
        elif isinstance(node, ast.ImportFrom):
            imports.append(["." * node.level + (node.module or ""), node.lineno])
        elif isinstance(node, ast.Name) and node.id in _NAMES:
            forbidden.append([node.id, node.lineno])
        elif isinstance(node, ast.Attribute) and node.attr in _ATTRS:
            forbidden.append([node.attr, node.lineno])
    functions, assigned, constants = {}, [], {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            functions[node.name] = {
                "positional": len(a.posonlyargs) + len(a.args),
                "defaults": len(a.defaults),
                "vararg": a.vararg is not None,
                "is_async": isinstance(node, ast.AsyncFunctionDef),
                "line": node.lineno,
            }
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    assigned.append(t.id)
                    if node.value is not None and t.id in ("MULTIPLE_SOLUTIONS",):
                        try:
                            v = ast.literal_eval(node.value)
                        except Exception:
                            v = None
                        if isinstance(v, (bool, int, str)):
                            constants[t.id] = v
    return {"imports": imports, "forbidden": forbidden, "functions": functions,
            "assigned": assigned, "constants": constants}


def generate(rng, difficulty):
    return {"prompt": "static check", "data": _analyse(SOURCE), "reference": "ok"}


def verify(instance, answer):
    return 0.0
