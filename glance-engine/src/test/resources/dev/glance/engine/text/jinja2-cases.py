# Generates jinja2-cases.json: what Python + jinja2 (HF chat-template settings) render.
# Run: python3 jinja2-cases.py > jinja2-cases.json
import json
from jinja2.sandbox import ImmutableSandboxedEnvironment
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.filters['tojson'] = tojson
V = {"s": "  Hello, World\u00a0 ", "t": "a.b..c.", "u": "<think>x</think>\n\nanswer  ", "w": "one  two\tthree\n four ", "e": "", "lines": "a\nb\r\nc\rd\u2028e\n", "mixed": "hELLO wORLD's 3rd-time ǅx", "cjk": "发票金额\U0001F642是多少"}
exprs = [
 "s.strip()", "s.lstrip()", "s.rstrip()", "t.strip('.')", "t.lstrip('.a')", "t.rstrip('.c')", "u.split('</think>')[-1].lstrip('\\n')", "u.split('</think>')[-1].strip()",
 "t.split('.')", "t.split('.', 1)", "t.split('..')", "w.split()", "w.split(None, 1)", "e.split()", "e.split('.')", "t.rsplit('.', 1)", "w.rsplit(None, 1)", "t.rsplit('.')",
 "t.split(maxsplit=1, sep='.')",
 "lines.splitlines()", "lines.splitlines(True)",
 "t.replace('.', '-')", "t.replace('.', '-', 2)", "t.replace('', '|')", "e.replace('', 'x')",
 "mixed.upper()", "mixed.lower()", "mixed.title()", "mixed.capitalize()", "cjk.upper()",
 "u.startswith('<think>')", "u.endswith('  ')", "u.endswith(('x', '  '))", "t.startswith('b', 2)", "t.endswith('b', 0, 3)", "cjk.endswith('多少')",
 "cjk.find('是')", "cjk.find('x')", "t.find('.', 2)", "t.rfind('.')", "t.count('.')", "t.count('')", "cjk.rfind('金', -6)",
 "', '.join(['a', 'b', 'c'])", "'-'.join(w.split())",
 "[1, 2.5, 1e20, 0.0001, 1e-5, true, none, 'é\"\\\\\\n'] ", "{'b': 1, 'a': [1, {'c': none}]}",
]
# Jinjava reads a parenthesised dict literal before a filter as a tuple, so dicts go bare.
def tpl(e):
    return "{{ " + e + " | tojson }}" if e.startswith("{") else "{{ (" + e + ") | tojson }}"
out = []
for e in exprs:
    r = env.from_string(tpl(e)).render(**V)
    out.append((e, r))
# tojson options
for e in ["{'b': 1, 'a': [1, {'c': 'é'}]} | tojson(indent=2)", "{'b': 1, 'a': 'é'} | tojson(ensure_ascii=True, sort_keys=True)", "{'b': 1, 'a': [1,2]} | tojson(separators=(',', ':'))", "[] | tojson", "{} | tojson(indent=2)"]:
    out.append((e, env.from_string("{{ " + e + " }}").render(**V)))
# Whole templates: whitespace control, operator precedence, dict iteration, tool-call shapes.
V["d"] = {"city": "Paris", "days": 2, "opts": {"unit": "C", "x": [1, 2.5, None, True]}}
V["tools"] = [{"type": "function", "function": {"name": "get_weather", "description": "天气 ☀", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
raw = [
 "{{ 'a' }}\n{{- 'b' }}\n{{ 'c' -}}\n  d",
 "{% if true %}\n    {{- 'x' }}\n{% endif %}\n  {%- if true %} y {% endif %}",
 "{% for k, v in d.items() %}\n<{{ k }}>{{ v | tojson if v is not string else v }}</{{ k }}>\n{% endfor %}",
 "{% for k in d %}{{ k }},{% endfor %}",
 "{% set key = 'z' %}{{ {key: 1} | tojson }}",
 "{{ not 'a' in 'abc' }}|{{ 'a' if false else 'b' ~ 'c' }}|{{ 1 + 2 * 3 }}",
 "{% for tool in tools %}\n{{ tool | tojson(ensure_ascii=False) }}\n{% endfor %}",
 "{% set ns = namespace(n=0) %}{% for x in [1, none, 2] %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}",
 "{%- for m in ['a', 'b'] -%}\n  {{ m }}\n{%- endfor %}",
 # lstrip_blocks strips only whitespace that starts the line; trim_blocks one newline after %} / #}.
 "a {% if true %}b{% endif %} c",
 "  {% if true %}y{% endif %}",
 "{% if true %} y {% endif %}|",
 "line\n    {% for x in [1, 2] %}\n    {{ x }}\n    {% endfor %}\nend",
 "{# comment #}\nx\n  {# indented #}\ny",
 "{{ 'a' }}  \n  {%- if true %}b{% endif %}",
 "{% set x = 1 %}\n\n{{ x }}",
 "{% macro m(a) %}\n  [{{ a }}]\n{% endmacro %}\n{{ m(1) }}{{ m(2) }}",
 "{% if true %}a{% else %}b{% endif %}   \n  {% if false %}x{% endif %}z",
 "\t{% if true %}\ttab{% endif %}",
 "{% if true %}\r\nA\r\n{% endif %}\r\nB",
 "ends with a newline\n",
 "  {%+ if true %}y{% endif %}|  {#+ kept #}z",
 "{#- note -#}  x  {#- note #}\ny",
 "{% set x = '%} {# not a comment #}' %}\n{{ x }}",
 "a\n  {% raw %}  {% if %}\n{{ x }}{# c #}\n  {% endraw %}\nb",
 # Printing values: Python's str() of booleans, lists and dicts.
 "{{ true }}|{{ [1, 'a', none, true, \"it's\"] }}|{{ {'k': false, 'n': 1.5} }}|{{ 1e20 }}|{{ ['\\n\\t', 'é\u0085'] }}",
]
for t in raw:
    out.append(("RAW", t, env.from_string(t).render(**V)))
import sys
json.dump({"vars": V, "cases": [{"template": x[1], "expected": x[2]} if x[0] == "RAW" else {"template": tpl(x[0]) if i < len(exprs) else "{{ " + x[0] + " }}", "expected": x[1]} for i, x in enumerate(out)]}, sys.stdout, ensure_ascii=False, indent=1)
