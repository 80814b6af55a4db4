// A small schema language for resource documents, and the engine that
// checks a JSON value against it.
//
// A Schema describes the JSON shape of one resource (or a part of one):
// objects with known fields (required or not), maps, arrays, strings with
// enums and length limits, integers and numbers with ranges, booleans,
// int-or-string values and free-form sub-objects.  Admission (admit.h) uses
// it for the strict structural check of every kind; openapi.h renders it
// as an OpenAPI v3 schema for kubectl.
//
//   Schema feed = Schema::Object({
//       Field("content", Schema::String().Enum({"IPSet", "DomainNameSet"})),
//       Field("description", Schema::String().MaxLength(256)),
//       RequiredField("url", Schema::String()),
//   });
//
// Schemas are immutable values after construction; sub-schemas are shared,
// so copying is cheap.  Thread-safe for concurrent reads.
#ifndef TW_MODEL_SCHEMA_H_
#define TW_MODEL_SCHEMA_H_

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tw::model {

// ---- Field errors ------------------------------------------------------------

// Field paths as Kubernetes prints them: "spec.egress[0].destination.ports[1]",
// map entries as "metadata.labels[app]".
std::string ChildPath(std::string_view parent, std::string_view field);
std::string IndexPath(std::string_view parent, size_t index);
std::string KeyPath(std::string_view parent, std::string_view key);

// Collects every problem found in one document, in the order found.
// Reasons are Kubernetes' CauseType names.
class FieldErrors {
 public:
  void Add(std::string field, std::string reason, std::string message);
  // FieldValueInvalid.
  void Invalid(std::string field, std::string message);
  // FieldValueRequired, message "required".
  void Required(std::string field);
  // FieldValueUnknown, message "unknown field".
  void Unknown(std::string field);
  // FieldValueNotSupported: `unsupported value "X": must be one of A, B`.
  void NotSupported(std::string field, std::string_view value, const std::vector<std::string>& allowed);
  // FieldValueTypeInvalid: "must be a number, got string".
  void TypeInvalid(std::string field, std::string message);
  // FieldValueDuplicate: `duplicate value "X"`.
  void Duplicate(std::string field, std::string_view value);
  // FieldValueTooLong / FieldValueTooMany.
  void TooLong(std::string field, std::string message);
  void TooMany(std::string field, std::string message);

  bool empty() const { return causes_.empty(); }
  const std::vector<StatusCause>& causes() const { return causes_; }
  // InvalidArgument "FIELD: MESSAGE" of the first cause, with every cause
  // attached.  Only valid when !empty().
  Status ToStatus() const;

 private:
  std::vector<StatusCause> causes_;
};

// ---- Schemas -------------------------------------------------------------------

enum class SchemaType {
  kObject,       // known fields only (unless PreserveUnknownFields)
  kMap,          // string keys, values of one schema
  kArray,        // items of one schema
  kString,
  kInteger,      // int64; integral floating values are accepted and converted
  kNumber,       // any JSON number
  kBoolean,
  kIntOrString,  // Kubernetes IntOrString (ports)
  kFreeObject,   // any JSON object, not checked further
  kAny,          // any JSON value, not checked further
};

class Schema;
using SchemaRef = std::shared_ptr<const Schema>;

struct SchemaField {
  std::string name;
  SchemaRef schema;
  bool required = false;
};

SchemaField Field(std::string name, Schema schema);
SchemaField RequiredField(std::string name, Schema schema);

class Schema {
 public:
  static Schema Object(std::vector<SchemaField> fields);
  static Schema Map(Schema values);
  static Schema Array(Schema items);
  static Schema String();
  static Schema Integer();
  static Schema Number();
  static Schema Boolean();
  static Schema IntOrString();
  static Schema FreeObject();
  static Schema Any();

  // Modifiers, used while building: Schema::String().Enum({...}).
  Schema Enum(std::vector<std::string> values) &&;
  Schema MaxLength(size_t n) &&;              // strings: UTF-8 characters
  Schema MaxItems(size_t n) &&;               // arrays and maps
  Schema Min(double v) &&;                    // integers and numbers
  Schema Max(double v) &&;
  Schema Describe(std::string text) &&;
  // Objects: fields not listed are kept without checks (status written by
  // controllers, sub-objects we model only partly).
  Schema PreserveUnknownFields() &&;
  // Adds fields to an object schema (kind-specific top-level fields).
  Schema WithFields(std::vector<SchemaField> more) &&;

  SchemaType type() const { return type_; }
  const std::vector<SchemaField>& fields() const { return fields_; }
  const SchemaField* FindField(std::string_view name) const;
  const Schema* items() const { return items_.get(); }  // kArray, kMap
  const std::vector<std::string>& enum_values() const { return enum_; }
  std::optional<size_t> max_length() const { return max_length_; }
  std::optional<size_t> max_items() const { return max_items_; }
  std::optional<double> min() const { return min_; }
  std::optional<double> max() const { return max_; }
  const std::string& description() const { return description_; }
  bool preserve_unknown_fields() const { return preserve_unknown_; }

 private:
  explicit Schema(SchemaType t) : type_(t) {}

  SchemaType type_;
  std::vector<SchemaField> fields_;
  SchemaRef items_;
  std::vector<std::string> enum_;
  std::optional<size_t> max_length_, max_items_;
  std::optional<double> min_, max_;
  std::string description_;
  bool preserve_unknown_ = false;
};

// Checks `value` (found at `path`, "" for the document root) against
// `schema` and records every problem in `errors`.  Normalises in place, as
// Kubernetes decoding does: object members whose value is null are removed
// (null means "unset"), and integral floating values of integer fields
// become integers.  Values of wrong type are left as they are.
void CheckSchema(const Schema& schema, boost::json::value& value, const std::string& path,
                 FieldErrors& errors);

// "string", "number", "boolean", "object", "array" or "null".
std::string_view JsonTypeName(const boost::json::value& v);

}  // namespace tw::model

#endif  // TW_MODEL_SCHEMA_H_
