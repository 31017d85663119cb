#include "decoders/postgres/spans.h"

#include "decoders/common/span_helpers.h"

namespace wirespan::decoders::postgres {

std::string SpanName(const Record& r) {
  const Statement* s = r.statement.get();
  const bool text_known = s == nullptr || s->text_known;
  if (!text_known && !s->name.empty()) return s->name;
  if (!r.operation.empty()) {
    if (s != nullptr && !s->collection.empty()) return r.operation + " " + s->collection;
    return r.operation;
  }
  if (s != nullptr && !s->name.empty()) return s->name;
  return "postgresql";
}

std::string_view SqlStateName(std::string_view code) {
  struct Entry {
    std::string_view code;
    std::string_view name;
  };
  static constexpr Entry kCodes[] = {
      {"23505", "unique_violation"},
      {"23503", "foreign_key_violation"},
      {"23502", "not_null_violation"},
      {"23514", "check_violation"},
      {"22012", "division_by_zero"},
      {"22P02", "invalid_text_representation"},
      {"42601", "syntax_error"},
      {"42P01", "undefined_table"},
      {"42703", "undefined_column"},
      {"42883", "undefined_function"},
      {"42501", "insufficient_privilege"},
      {"40001", "serialization_failure"},
      {"40P01", "deadlock_detected"},
      {"25P02", "in_failed_sql_transaction"},
      {"26000", "invalid_sql_statement_name"},
      {"34000", "invalid_cursor_name"},
      {"57014", "query_canceled"},
      {"55P03", "lock_not_available"},
      {"28P01", "invalid_password"},
      {"53300", "too_many_connections"},
  };
  for (const Entry& e : kCodes) {
    if (e.code == code) return e.name;
  }
  static constexpr Entry kClasses[] = {
      {"08", "connection_exception"},
      {"0A", "feature_not_supported"},
      {"21", "cardinality_violation"},
      {"22", "data_exception"},
      {"23", "integrity_constraint_violation"},
      {"25", "invalid_transaction_state"},
      {"28", "invalid_authorization_specification"},
      {"40", "transaction_rollback"},
      {"42", "syntax_error_or_access_rule_violation"},
      {"53", "insufficient_resources"},
      {"54", "program_limit_exceeded"},
      {"55", "object_not_in_prerequisite_state"},
      {"57", "operator_intervention"},
      {"58", "system_error"},
      {"P0", "plpgsql_error"},
      {"XX", "internal_error"},
  };
  if (code.size() >= 2) {
    for (const Entry& e : kClasses) {
      if (e.code == code.substr(0, 2)) return e.name;
    }
  }
  return {};
}

model::Span ToSpan(const Record& r, const ConnectionInfo& conn) {
  const model::SpanKind kind =
      conn.role == Role::kServer ? model::SpanKind::kServer : model::SpanKind::kClient;
  model::Span span = NewSpan(conn, kind, r.first, r.last, "postgresql");
  span.name = SpanName(r);
  auto& a = span.attributes;
  a.Set("db.system.name", "postgresql");
  if (!r.database.empty()) a.Set("db.namespace", r.database);
  if (!r.operation.empty()) a.Set("db.operation.name", r.operation);
  const Statement* s = r.statement.get();
  if (s != nullptr) {
    if (!s->collection.empty()) a.Set("db.collection.name", s->collection);
    if (s->text_known) {
      if (!s->text.empty()) a.Set("db.query.text", s->text);
      if (s->text_truncated) a.Set("db.postgresql.query_text.truncated", true);
    } else {
      a.Set("db.postgresql.query_text.unknown", true);
    }
    if (!s->name.empty()) a.Set("db.postgresql.statement.name", s->name);
  }
  SetNetworkAttributes(conn, span);
  if (r.has_returned_rows) a.Set("db.response.returned_rows", r.returned_rows);
  if (r.has_affected_rows) a.Set("db.postgresql.affected_rows", r.affected_rows);
  if (!r.portal.empty()) a.Set("db.postgresql.portal.name", r.portal);
  if (r.portal_suspended) a.Set("db.postgresql.portal.suspended", true);
  if (r.copy) a.Set("db.postgresql.copy.bytes", r.copy_bytes);
  if (r.empty_query) a.Set("db.postgresql.empty_query", true);
  if (!r.sqlstate.empty()) {
    a.Set("db.response.status_code", r.sqlstate);
    a.Set("error.type", r.sqlstate);
    span.status = model::StatusCode::kError;
    const std::string_view name = SqlStateName(r.sqlstate);
    span.status_message = name.empty() ? "SQLSTATE " + r.sqlstate
                                       : "SQLSTATE " + r.sqlstate + " " + std::string(name);
  } else if (r.skipped) {
    a.Set("error.type", "pipeline_aborted");
    a.Set("db.postgresql.pipeline_aborted", true);
    span.status = model::StatusCode::kError;
    span.status_message = "not run: an earlier statement of the pipeline failed";
  }
  return span;
}

}  // namespace wirespan::decoders::postgres
