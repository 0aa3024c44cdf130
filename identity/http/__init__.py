"""The only package that touches ``flask.request``: blueprints, security decorators, schemas,
and the one error renderer."""

from flask_smorest import Blueprint as _SmorestBlueprint

from identity.http.strict import StrictArgumentsParser as _StrictArgumentsParser

# Every ``@blp.arguments`` binds the parser when its module is imported, so the strict JSON
# reader is installed here, before any blueprint module can be (issue 12).
_SmorestBlueprint.ARGUMENTS_PARSER = _StrictArgumentsParser()
