"""Check warehouse tables against the data contract, with queries run IN the warehouse.

Every check is a sqlglot expression rendered in the warehouse's dialect, so DuckDB and
BigQuery run the same validation. Counting and example-picking happen in SQL, in three
queries per table (row count, all column rules in one UNION ALL, key uniqueness); values
(enum lists) travel as bound parameters, never as SQL text. Works on raw staging tables
(all VARCHAR, as a CSV load stages them) and on typed tables alike: a value is checked as
what it becomes when cast to the contract type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd
from sqlglot import exp
from sqlglot.errors import ParseError

from revbook import clock, contract
from revbook.contract import Column, Table
from revbook.data.warehouse import Warehouse, render

#: How many example rows a violation names.
EXAMPLES = 5
_ALIAS = "t"  # the checked table
_PARENT = "p"  # the referenced table of a foreign key
_CHECK, _COUNT, _ROW, _KEYS = "_check", "_count", "_row", "_keys"


@dataclass(frozen=True)
class Violation:
    """One broken contract rule: where, how many rows, which rows, in a sentence."""

    table: str
    column: str | None
    rule: str  # missing_table | empty_table | missing_column | extra_column | type | not_null | unique_key | enum
    #            | not_finite | not_integer | non_negative | future | foreign_key (load: filled, history, extra_file)
    count: int  # rows breaking the rule (0 for structural rules)
    examples: tuple[str, ...]  # up to EXAMPLES keys, "lead_id=L00012", or "row 17" (1-based)
    detail: str
    severity: str = "error"  # "warning": loaded anyway (absent or empty table, optional column, unknown label, ...)

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        level = "warning: " if self.severity == "warning" else ""
        examples = f"; e.g. {', '.join(self.examples)}" if self.examples else ""
        return f"{where} [{self.rule}] {level}{self.detail}{examples}"


def validate(wh: Warehouse, now: dt.datetime | None = None) -> list[Violation]:
    """Every contract violation in `wh`, table by table in contract order; events after `now`
    (default: `clock.now()`) are in the future."""
    now = now or clock.now()
    found = {t.name: wh.table_columns(t.name) for t in contract.TABLES}
    present = {name: types for name, types in found.items() if types is not None}
    rows = {name: wh.row_count(name) for name in present}
    with_rows = {name: types for name, types in present.items() if rows[name]}
    violations: list[Violation] = []
    for table in contract.TABLES:
        if table.name not in present:
            # a DuckDB load builds an absent table empty; on BigQuery the marts would not find it
            violations.append(Violation(table.name, None, "missing_table", 0, (),
                                        f"table {table.name} is absent: reports that need {table.label} say so",
                                        "error" if wh.dialect == "bigquery" else "warning"))
            continue
        src = _Source(table, present[table.name], wh.dialect)
        violations += _structure(src)
        if not rows[table.name]:
            violations.append(Violation(table.name, None, "empty_table", 0, (),
                                        f"table {table.name} has no rows: reports that need {table.label} say so",
                                        "warning"))
            continue
        checks = [*_type_checks(src), *_not_null_checks(src), *_enum_checks(src), *_finite_checks(src),
                  *_integer_checks(src), *_non_negative_checks(src), *_past_checks(src, now),
                  *_foreign_key_checks(src, with_rows)]
        violations += _run_checks(wh, src, checks)
        violations += _unique_key(wh, src)
    return violations


def cast_to_contract(value: exp.Expression, column: Column, source_type: str, dialect: str,
                     *, safe: bool) -> exp.Expression:
    """`value` (of engine type `source_type`) as the contract type of `column`.

    Unchanged when the type already matches. Timestamps go through TIMESTAMPTZ so a UTC
    offset in the text ("…+09:00", "…Z") is honoured, not dropped (sessions run in UTC).
    `safe` gives TRY_CAST (NULL where the value does not convert) instead of CAST.
    """
    if same_type(source_type, column, dialect):
        return value
    cast = exp.TryCast if safe else exp.Cast
    if column.type == "timestamp":
        value = cast(this=value, to=_datatype("TIMESTAMPTZ"))
    return cast(this=value, to=_datatype(column.sql_type))


@cache
def same_type(engine_type: str, column: Column, dialect: str) -> bool:
    """Whether a column of `engine_type` (as `dialect` spells it) has the contract type."""
    want = render(_datatype(column.sql_type), dialect)
    try:
        return exp.DataType.build(engine_type, dialect=dialect).sql(dialect) == want
    except (ParseError, ValueError):
        return False


def _datatype(duckdb_name: str) -> exp.DataType:
    return _parsed_datatype(duckdb_name).copy()


@cache
def _parsed_datatype(duckdb_name: str) -> exp.DataType:
    return exp.DataType.build(duckdb_name, dialect="duckdb")


# --- query building (fresh nodes everywhere, so no builder needs to copy) --------------

def _select(*columns: exp.Expr, source: exp.Expr,
            where: Collection[exp.Expr] = (), group: Collection[exp.Expr] = (),
            having: exp.Expr | None = None, order: Collection[exp.Expr] = (),
            limit: int | None = None) -> exp.Select:
    """SELECT columns FROM source [WHERE all of where] [GROUP BY] [HAVING]
    [ORDER BY order, ascending, NULLs last on every engine] [LIMIT]."""
    query = exp.select(*columns, copy=False).from_(source, copy=False)
    if where:
        query = query.where(*where, copy=False)
    if group:
        query = query.group_by(*group, copy=False)
    if having is not None:
        query = query.having(having, copy=False)
    if order:
        query = query.order_by(*(exp.Ordered(this=e, nulls_first=False) for e in order),
                               copy=False)
    return query if limit is None else query.limit(limit, copy=False)


def _count() -> exp.Expression:
    return exp.Count(this=exp.Star())


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def _not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=_is_null(e))


def _and(*conditions: exp.Expr) -> exp.Condition:
    return exp.and_(*conditions, copy=False)


def _text(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=_datatype("VARCHAR"))


# --- the table as the warehouse holds it ----------------------------------------------

@dataclass(frozen=True)
class _Source:
    """A contract table as found in the warehouse: which columns, of which engine types."""

    table: Table
    types: Mapping[str, str]
    dialect: str
    key: tuple[str, ...] = field(init=False)  # the contract key, () if a key column is missing

    def __post_init__(self) -> None:
        has_key = all(k in self.types for k in self.table.key)
        object.__setattr__(self, "key", self.table.key if has_key else ())

    @property
    def present(self) -> list[Column]:
        return [c for c in self.table.columns if c.name in self.types]

    def sql(self, query: exp.Expression) -> str:
        return render(query, self.dialect)

    def from_(self, alias: str = _ALIAS) -> exp.Table:
        return exp.table_(self.table.name, quoted=True, alias=alias)

    def ref(self, name: str, alias: str = _ALIAS) -> exp.Column:
        return exp.column(name, table=alias, quoted=True)

    def value(self, column: Column, alias: str = _ALIAS) -> exp.Expression:
        """The column's value as the contract type (NULL where it does not convert)."""
        return cast_to_contract(self.ref(column.name, alias), column,
                                self.types[column.name], self.dialect, safe=True)

    def labels(self) -> dict[str, exp.Expression]:
        """Fresh expressions naming a row: key parts as text (_k0, …), then in DuckDB its
        position (_row: rowid, the insertion order, i.e. the file or frame row)."""
        labels = {f"_k{i}": _text(self.ref(k)) for i, k in enumerate(self.key)}
        if self.dialect == "duckdb":
            labels[_ROW] = self.ref("rowid")
        return labels

    def example(self, row: Mapping[str, Any]) -> str | None:
        """How to name `row`: by key ("lead_id=L1", "(date=…, campaign_id=…)"), by position
        ("row 17") when a required key part is NULL or there is no key, else None."""
        values = {k: _none(row.get(f"_k{i}")) for i, k in enumerate(self.key)}
        required = [k for k in self.key if not self.table.column(k).nullable]
        position = _none(row.get(_ROW))
        if position is not None and (not values or any(values[k] is None for k in required)):
            return f"row {int(position) + 1}"
        if not values:
            return None
        text = ", ".join(f"{k}={'NULL' if v is None else v}" for k, v in values.items())
        return text if len(values) == 1 else f"({text})"

    def examples(self, rows: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
        return tuple(e for e in map(self.example, rows) if e is not None)


def _none(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def _rows(n: int) -> str:
    return "1 row" if n == 1 else f"{n} rows"


def _structure(src: _Source) -> list[Violation]:
    table = src.table
    absent = [c for c in table.columns if c.name not in src.types]
    optional = [c.name for c in absent if c.nullable and src.dialect != "bigquery"]  # a load leaves them empty
    missing = [Violation(table.name, c.name, "missing_column", 0, (), f"column {c.name} ({c.type}) is missing")
               for c in absent if c.name not in optional]
    if optional:
        missing.append(Violation(table.name, ", ".join(optional), "missing_column", 0, (),
                                 f"optional column{'s' if len(optional) > 1 else ''} absent, left empty", "warning"))
    extra = [Violation(table.name, name, "extra_column", 0, (),
                       f"column {name} is not in the contract and is ignored", "warning")
             for name in src.types if name not in table.column_names]
    return missing + extra + _engine_types(src)


def _engine_types(src: _Source) -> list[Violation]:
    """On BigQuery the marts read the lake tables as they are (there is no load step that casts), so
    a column must already have its contract type: a DATETIME where a TIMESTAMP belongs breaks every
    comparison with a timestamp."""
    if src.dialect != "bigquery":
        return []
    return [Violation(src.table.name, c.name, "type", 0, (),
                      f"column {c.name} is {src.types[c.name]}; the reports need "
                      f"{render(_datatype(c.sql_type), src.dialect)} ({c.type}): cast it in the ETL, or map the "
                      "table to a view that does (tables: in params/warehouse.yaml)")
            for c in src.present if not same_type(src.types[c.name], c, src.dialect)]


# --- column rules: one UNION ALL query per table --------------------------------------

@dataclass(frozen=True)
class _Check:
    """Rows where `bad` holds break `rule` on `column`; `what` completes "3 rows …"."""

    rule: str
    column: Column
    bad: exp.Expr
    what: str
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "error"
    values: bool = False  # name the offending values and their counts (enums)


def _run_checks(wh: Warehouse, src: _Source, checks: list[_Check]) -> list[Violation]:
    """Run `checks` in one query: per check, its bad-row count and first examples by key."""
    if not checks:
        return []
    branches = [
        _select(exp.Star(), source=_select(
            exp.Literal.number(i).as_(_CHECK), exp.Window(this=_count()).as_(_COUNT),
            *(e.as_(n) for n, e in src.labels().items()),
            source=src.from_(), where=[check.bad], order=src.labels().values(), limit=EXAMPLES,
        ).subquery(f"_c{i}", copy=False))
        for i, check in enumerate(checks)
    ]
    union = branches[0] if len(branches) == 1 else exp.union(*branches, distinct=False,
                                                             copy=False)
    query = _select(exp.Star(), source=union.subquery("_bad", copy=False),
                    order=[exp.column(n) for n in [_CHECK, *src.labels()]])
    params = {k: v for check in checks for k, v in check.params.items()}
    found = wh.query(src.sql(query), params).to_dict("records")
    violations = []
    for i, check in enumerate(checks):
        if hits := [r for r in found if r[_CHECK] == i]:
            count = int(hits[0][_COUNT])
            what = f"{_rows(count)} {check.what}"
            if check.values:
                what += f": {_offending_values(wh, src, check)}"
            violations.append(Violation(src.table.name, check.column.name, check.rule, count,
                                        src.examples(hits), what, check.severity))
    return violations


def _offending_values(wh: Warehouse, src: _Source, check: _Check) -> str:
    """The commonest values breaking `check`, with their counts: "'Web' ×120, 'Partner' ×3"."""
    value = _text(src.ref(check.column.name))
    query = _select(value.as_("_value"), _count().as_(_COUNT), source=src.from_(), where=[check.bad],
                    group=[_text(src.ref(check.column.name))]).order_by(
        exp.Ordered(this=exp.column(_COUNT), desc=True), exp.Ordered(this=exp.column("_value")), copy=False
    ).limit(EXAMPLES, copy=False)
    found = wh.query(src.sql(query), dict(check.params))
    return ", ".join(f"{v!r} ×{n:,}" for v, n in zip(found["_value"], found[_COUNT]))


def _type_checks(src: _Source) -> list[_Check]:
    return [_Check("type", c, _and(_not_null(src.ref(c.name)), _is_null(src.value(c))),
                   f"with {c.name} not a valid {c.type}")
            for c in src.present if not same_type(src.types[c.name], c, src.dialect)]


def _not_null_checks(src: _Source) -> list[_Check]:
    return [_Check("not_null", c, _is_null(src.ref(c.name)), f"with no {c.name} (required)")
            for c in src.present if not c.nullable]


def _enum_checks(src: _Source) -> list[_Check]:
    checks = []
    for c in src.present:
        if not c.enum:
            continue
        param = f"allowed_{c.name}"
        allowed = exp.ArrayContains(this=exp.Placeholder(this=param), expression=src.value(c))
        if c.open_enum:
            checks.append(_Check("enum", c, _and(_not_null(src.value(c)), exp.Not(this=allowed)),
                                 f"with a {c.name} revbook does not know (kept as it is; known: {', '.join(c.enum)})",
                                 {param: list(c.enum)}, "warning", values=True))
        else:
            checks.append(_Check("enum", c, _and(_not_null(src.value(c)), exp.Not(this=allowed)),
                                 f"with {c.name} outside ({', '.join(c.enum)})", {param: list(c.enum)}, values=True))
    return checks


#: The largest finite double: NaN and ±inf fall outside [-MAX, MAX] on every engine.
_MAX_DOUBLE = exp.Literal.number("1.7976931348623157e308")


def _finite_checks(src: _Source) -> list[_Check]:
    """NaN or infinity in a number column: an export error that would turn sums and rates into n/a."""
    return [_Check("not_finite", c, _and(_not_null(src.value(c)), exp.Not(this=exp.Between(
                this=src.value(c), low=exp.Neg(this=_MAX_DOUBLE.copy()), high=_MAX_DOUBLE.copy()))),
                   f"with {c.name} NaN or infinite")
            for c in src.present if c.type == "float"]


def _integer_checks(src: _Source) -> list[_Check]:
    """A fraction in an integer column ('12.5' attendees), which a cast would round silently."""
    double = Column("_as_double", "float")
    return [_Check("not_integer", c, _and(_not_null(src.value(c)), exp.NEQ(
                this=cast_to_contract(src.ref(c.name), double, src.types[c.name], src.dialect, safe=True),
                expression=exp.Cast(this=src.value(c), to=_datatype("DOUBLE")))),
                   f"with {c.name} not a whole number")
            for c in src.present if c.type == "int" and not same_type(src.types[c.name], c, src.dialect)]


def _non_negative_checks(src: _Source) -> list[_Check]:
    return [_Check("non_negative", c, exp.LT(this=src.value(c), expression=exp.Literal.number(0)),
                   f"with negative {c.name}")
            for c in src.present if c.non_negative]


def _past_checks(src: _Source, now: dt.datetime) -> list[_Check]:
    """Events (timestamps, daily usage and spend) dated after `now`: a clock or time-zone error upstream."""
    checks = []
    for c in src.present:
        if c.past:
            param, limit = ("now", now) if c.type == "timestamp" else ("today", now.date())
            checks.append(_Check("future", c, exp.GT(this=src.value(c), expression=exp.Placeholder(this=param)),
                                 f"with {c.name} in the future (after {limit:%Y-%m-%d %H:%M} UTC)"
                                 if c.type == "timestamp" else f"with {c.name} in the future (after {limit})",
                                 {param: limit}))
    return checks


def _foreign_key_checks(src: _Source, found: Mapping[str, Mapping[str, str]]) -> list[_Check]:
    """Non-NULL values with no match in the referenced column, if that table was loaded with rows
    (a partial export: opportunities without their accounts)."""
    checks = []
    for c in src.present:
        if not c.references:
            continue
        parent_name, parent_column = c.references.split(".")
        if parent_column not in found.get(parent_name, {}):
            continue  # reported as missing_table / missing_column
        parent = _Source(contract.table(parent_name), found[parent_name], src.dialect)
        match = _select(exp.Literal.number(1), source=parent.from_(_PARENT), where=[
            exp.EQ(this=parent.value(parent.table.column(parent_column), _PARENT),
                   expression=src.value(c))])
        bad = _and(_not_null(src.ref(c.name)), exp.Not(this=exp.Exists(this=match)))
        checks.append(_Check("foreign_key", c, bad, f"with {c.name} not found in {c.references}"))
    return checks


# --- key uniqueness -------------------------------------------------------------------

def _unique_key(wh: Warehouse, src: _Source) -> list[Violation]:
    """Rows sharing a key (NULLs in nullable parts compare equal, as GROUP BY does).

    Rows with a NULL or unconvertible required key part are left to not_null / type.
    """
    if not src.key:
        return []
    key = [src.table.column(k) for k in src.key]
    names = [f"_k{i}" for i in range(len(key))]
    groups = _select(  # grouped by the typed values: far less memory than their text on 100M+ rows
        *(_text(src.value(c)).as_(n) for c, n in zip(key, names)), _count().as_(_COUNT),
        source=src.from_(), where=[_not_null(src.value(c)) for c in key if not c.nullable],
        group=[src.value(c) for c in key],
        having=exp.GT(this=_count(), expression=exp.Literal.number(1)))
    query = _select(*(exp.column(n) for n in names),
                    exp.Window(this=exp.Sum(this=exp.column(_COUNT))).as_(_COUNT),
                    exp.Window(this=_count()).as_(_KEYS),
                    source=groups.subquery("_g", copy=False),
                    order=[exp.column(n) for n in names], limit=EXAMPLES)
    found = wh.query(src.sql(query))
    if found.empty:
        return []
    rows, keys = int(found[_COUNT].iloc[0]), int(found[_KEYS].iloc[0])
    label = ", ".join(src.key)
    return [Violation(src.table.name, label, "unique_key", rows,
                      src.examples(found.to_dict("records")),
                      f"{rows} rows share {keys} duplicated {label} "
                      f"{'value' if keys == 1 else 'values'}")]
