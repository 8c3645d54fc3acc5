"""Querysets that one page runs on every request, compiled once and run again with new values.

Django builds and compiles a queryset's SQL each time it is evaluated. For the article page's
lookup (a live article by slug, 25 columns) that costs more than the database takes to answer
it. A `PreparedQuery` is written as an ordinary queryset of its named parameters; it is
compiled once per database connection with marker values in their place, remembers where the
markers landed among the SQL parameters, and then runs the same SQL with real values, turning
rows into instances as Django's own iterable does (the same columns, converters and
`from_db`). The queryset stays the single statement of the rule: change it and the prepared
query follows.
"""

import datetime
import weakref
from dataclasses import dataclass

from django.db import connections, models
from django.db.models.sql.compiler import SQLCompiler


@dataclass
class _Compiled:
    sql: str
    params: list
    slots: dict[int, str]  # position in params -> parameter name
    compiler: SQLCompiler
    columns: slice
    init_list: list[str]
    relations: tuple


def _marker(name: str, field: models.Field, number: int):
    """A value of the field's kind that no real parameter will ever equal."""
    if isinstance(field, models.DateTimeField):
        return datetime.datetime(1900, 1, 1, 0, 0, number, tzinfo=datetime.UTC)
    return f"\x00{name}-marker"


class PreparedQuery:
    """`build(**parameters)` returns the queryset; `fields` names the model field each
    parameter is compared with (it says how a value is sent to the database)."""

    def __init__(self, build, **fields: models.Field):
        self._build = build
        self._fields = fields
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _adapt(self, name: str, value, connection):
        return self._fields[name].get_db_prep_value(value, connection, prepared=False)

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        markers = {
            name: _marker(name, field, number)
            for number, (name, field) in enumerate(self._fields.items(), start=1)
        }
        queryset = self._build(**markers).using(using)
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        adapted = {name: self._adapt(name, value, connection) for name, value in markers.items()}
        slots = {
            position: name
            for position, param in enumerate(params)
            for name, marker in adapted.items()
            if param == marker
        }
        if set(slots.values()) != set(markers):
            raise ValueError("every parameter must appear in the query's SQL")
        select_fields = compiler.klass_info["select_fields"]
        columns = slice(select_fields[0], select_fields[-1] + 1)
        return _Compiled(
            sql=sql,
            params=list(params),
            slots=slots,
            compiler=compiler,
            columns=columns,
            init_list=[column[0].target.attname for column in compiler.select[columns]],
            relations=getattr(queryset, "_relations_in_one_query", ()),
        )

    def __call__(self, using: str = "default", **values) -> list[models.Model]:
        """The instances the queryset would give for these values."""
        connection = connections[using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(using)
        params = list(compiled.params)
        for position, name in compiled.slots.items():
            params[position] = self._adapt(name, values[name], connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        model = compiled.compiler.query.model
        found = [
            model.from_db(using, compiled.init_list, row[compiled.columns])
            for row in compiled.compiler.results_iter([rows])
        ]
        if found and compiled.relations:
            from .relations import load_relations

            load_relations(found, compiled.relations)
        return found
