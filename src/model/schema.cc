#include "model/schema.h"

#include <cmath>

#include "base/strings.h"
#include "model/validators.h"

namespace tw::model {

std::string ChildPath(std::string_view parent, std::string_view field) {
  if (parent.empty()) return std::string(field);
  std::string out(parent);
  out += '.';
  out += field;
  return out;
}

std::string IndexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string KeyPath(std::string_view parent, std::string_view key) {
  return std::string(parent) + "[" + std::string(key) + "]";
}

void FieldErrors::Add(std::string field, std::string reason, std::string message) {
  causes_.push_back({std::move(field), std::move(reason), std::move(message)});
}
void FieldErrors::Invalid(std::string field, std::string message) {
  Add(std::move(field), "FieldValueInvalid", std::move(message));
}
void FieldErrors::Required(std::string field) { Add(std::move(field), "FieldValueRequired", "required"); }
void FieldErrors::Unknown(std::string field) { Add(std::move(field), "FieldValueUnknown", "unknown field"); }
void FieldErrors::NotSupported(std::string field, std::string_view value,
                               const std::vector<std::string>& allowed) {
  Add(std::move(field), "FieldValueNotSupported",
      "unsupported value \"" + std::string(value) + "\": must be one of " + Join(allowed, ", "));
}
void FieldErrors::TypeInvalid(std::string field, std::string message) {
  Add(std::move(field), "FieldValueTypeInvalid", std::move(message));
}
void FieldErrors::Duplicate(std::string field, std::string_view value) {
  Add(std::move(field), "FieldValueDuplicate", "duplicate value \"" + std::string(value) + "\"");
}
void FieldErrors::TooLong(std::string field, std::string message) {
  Add(std::move(field), "FieldValueTooLong", std::move(message));
}
void FieldErrors::TooMany(std::string field, std::string message) {
  Add(std::move(field), "FieldValueTooMany", std::move(message));
}

Status FieldErrors::ToStatus() const {
  TW_CHECK(!causes_.empty());  // callers check empty() first
  const StatusCause& first = causes_.front();
  std::string msg = first.field.empty() ? first.message : first.field + ": " + first.message;
  return Status::InvalidArgument(std::move(msg)).WithCauses(causes_);
}

// ---- Schema construction ----------------------------------------------------------

SchemaField Field(std::string name, Schema schema) {
  return {std::move(name), std::make_shared<const Schema>(std::move(schema)), false};
}
SchemaField RequiredField(std::string name, Schema schema) {
  return {std::move(name), std::make_shared<const Schema>(std::move(schema)), true};
}

Schema Schema::Object(std::vector<SchemaField> fields) {
  Schema s(SchemaType::kObject);
  s.fields_ = std::move(fields);
  return s;
}
Schema Schema::Map(Schema values) {
  Schema s(SchemaType::kMap);
  s.items_ = std::make_shared<const Schema>(std::move(values));
  return s;
}
Schema Schema::Array(Schema items) {
  Schema s(SchemaType::kArray);
  s.items_ = std::make_shared<const Schema>(std::move(items));
  return s;
}
Schema Schema::String() { return Schema(SchemaType::kString); }
Schema Schema::Integer() { return Schema(SchemaType::kInteger); }
Schema Schema::Number() { return Schema(SchemaType::kNumber); }
Schema Schema::Boolean() { return Schema(SchemaType::kBoolean); }
Schema Schema::IntOrString() { return Schema(SchemaType::kIntOrString); }
Schema Schema::FreeObject() { return Schema(SchemaType::kFreeObject); }
Schema Schema::Any() { return Schema(SchemaType::kAny); }

Schema Schema::Enum(std::vector<std::string> values) && {
  enum_ = std::move(values);
  return std::move(*this);
}
Schema Schema::MaxLength(size_t n) && {
  max_length_ = n;
  return std::move(*this);
}
Schema Schema::MaxItems(size_t n) && {
  max_items_ = n;
  return std::move(*this);
}
Schema Schema::Min(double v) && {
  min_ = v;
  return std::move(*this);
}
Schema Schema::Max(double v) && {
  max_ = v;
  return std::move(*this);
}
Schema Schema::Describe(std::string text) && {
  description_ = std::move(text);
  return std::move(*this);
}
Schema Schema::PreserveUnknownFields() && {
  preserve_unknown_ = true;
  return std::move(*this);
}
Schema Schema::WithFields(std::vector<SchemaField> more) && {
  for (auto& f : more) fields_.push_back(std::move(f));
  return std::move(*this);
}

const SchemaField* Schema::FindField(std::string_view name) const {
  for (const SchemaField& f : fields_)
    if (f.name == name) return &f;
  return nullptr;
}

// ---- Checking -------------------------------------------------------------------------

std::string_view JsonTypeName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return "string";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::object: return "object";
    case boost::json::kind::array: return "array";
    case boost::json::kind::null: return "null";
  }
  return "unknown";
}

namespace {

std::string FormatNumber(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::string s = std::to_string(d);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

double AsDouble(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return v.as_double();
}

void CheckRange(const Schema& s, const boost::json::value& v, const std::string& path, FieldErrors& errors) {
  double d = AsDouble(v);
  bool low = s.min() && d < *s.min();
  bool high = s.max() && d > *s.max();
  if (!low && !high) return;
  if (s.min() && s.max())
    errors.Invalid(path, "must be between " + FormatNumber(*s.min()) + " and " + FormatNumber(*s.max()));
  else if (low)
    errors.Invalid(path, "must be greater than or equal to " + FormatNumber(*s.min()));
  else
    errors.Invalid(path, "must be less than or equal to " + FormatNumber(*s.max()));
}

void TypeError(const boost::json::value& v, const std::string& path, std::string_view want, FieldErrors& errors) {
  errors.TypeInvalid(path, "must be " + std::string(want) + ", got " + std::string(JsonTypeName(v)));
}

}  // namespace

void CheckSchema(const Schema& schema, boost::json::value& value, const std::string& path,
                 FieldErrors& errors) {
  switch (schema.type()) {
    case SchemaType::kAny:
      return;
    case SchemaType::kFreeObject:
      if (!value.is_object()) TypeError(value, path, "an object", errors);
      return;
    case SchemaType::kObject: {
      if (!value.is_object()) return TypeError(value, path, "an object", errors);
      boost::json::object& obj = value.as_object();
      std::vector<std::string> nulls;
      for (auto& [key, member] : obj) {
        if (member.is_null()) {
          nulls.emplace_back(key);
          continue;
        }
        const SchemaField* f = schema.FindField(key);
        if (f == nullptr) {
          if (!schema.preserve_unknown_fields()) errors.Unknown(ChildPath(path, key));
          continue;
        }
        CheckSchema(*f->schema, member, ChildPath(path, key), errors);
      }
      for (const std::string& k : nulls) obj.erase(k);
      for (const SchemaField& f : schema.fields())
        if (f.required && !obj.contains(f.name)) errors.Required(ChildPath(path, f.name));
      return;
    }
    case SchemaType::kMap: {
      if (!value.is_object()) return TypeError(value, path, "an object", errors);
      boost::json::object& obj = value.as_object();
      if (schema.max_items() && obj.size() > *schema.max_items())
        errors.TooMany(path, "must have at most " + std::to_string(*schema.max_items()) + " items");
      for (auto& [key, member] : obj) CheckSchema(*schema.items(), member, KeyPath(path, key), errors);
      return;
    }
    case SchemaType::kArray: {
      if (!value.is_array()) return TypeError(value, path, "an array", errors);
      boost::json::array& arr = value.as_array();
      if (schema.max_items() && arr.size() > *schema.max_items())
        errors.TooMany(path, "must have at most " + std::to_string(*schema.max_items()) + " items");
      for (size_t i = 0; i < arr.size(); ++i) CheckSchema(*schema.items(), arr[i], IndexPath(path, i), errors);
      return;
    }
    case SchemaType::kString: {
      if (!value.is_string()) return TypeError(value, path, "a string", errors);
      std::string_view s = value.as_string();
      if (!schema.enum_values().empty()) {
        bool found = false;
        for (const std::string& e : schema.enum_values()) found = found || e == s;
        if (!found) errors.NotSupported(path, s, schema.enum_values());
      }
      if (schema.max_length()) {
        int len = Utf8Length(s);
        if (len < 0) errors.Invalid(path, "must be valid UTF-8");
        else if (static_cast<size_t>(len) > *schema.max_length())
          errors.TooLong(path, "may not be more than " + std::to_string(*schema.max_length()) + " characters");
      }
      return;
    }
    case SchemaType::kInteger: {
      if (value.is_double()) {
        double d = value.as_double();
        if (std::floor(d) != d || std::fabs(d) > 9.0e18)
          return errors.TypeInvalid(path, "must be an integer, got " + FormatNumber(d));
        value = static_cast<int64_t>(d);
      }
      if (!value.is_int64() && !value.is_uint64()) return TypeError(value, path, "an integer", errors);
      CheckRange(schema, value, path, errors);
      return;
    }
    case SchemaType::kNumber:
      if (!value.is_number()) return TypeError(value, path, "a number", errors);
      CheckRange(schema, value, path, errors);
      return;
    case SchemaType::kBoolean:
      if (!value.is_bool()) TypeError(value, path, "a boolean", errors);
      return;
    case SchemaType::kIntOrString:
      if (value.is_double()) {
        double d = value.as_double();
        if (std::floor(d) == d && std::fabs(d) < 9.0e18) value = static_cast<int64_t>(d);
      }
      if (!value.is_int64() && !value.is_uint64() && !value.is_string())
        TypeError(value, path, "an integer or string", errors);
      return;
  }
}

}  // namespace tw::model
