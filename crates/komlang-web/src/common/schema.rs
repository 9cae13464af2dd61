//! OpenAPI schemas no derive gives: the body of a partial update (PATCH), built from the
//! schema of the whole record so that the two cannot drift apart.

use utoipa::openapi::schema::{AdditionalProperties, AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// Whether a schema already admits `null` (`type: [..., "null"]`, or a `oneOf`/`anyOf` with a
/// null branch).
fn admits_null(s: &RefOr<Schema>) -> bool {
    let v = serde_json::to_value(s).unwrap_or_default();
    let null_type = |v: &serde_json::Value| match &v["type"] {
        serde_json::Value::String(t) => t == "null",
        serde_json::Value::Array(ts) => ts.iter().any(|t| t == "null"),
        _ => false,
    };
    null_type(&v)
        || ["oneOf", "anyOf"].iter().any(|k| v[k].as_array().is_some_and(|branches| branches.iter().any(null_type)))
}

/// `s`, or null.
pub fn nullable(s: RefOr<Schema>) -> RefOr<Schema> {
    if admits_null(&s) {
        return s;
    }
    AnyOfBuilder::new().item(ObjectBuilder::new().schema_type(Type::Null)).item(s).into()
}

/// The body of a partial update of the record whose whole schema is `whole`: each of its
/// properties optional and nullable (absent or null keeps the stored value), plus `extra`,
/// and nothing else.
pub fn patch_of(whole: RefOr<Schema>, description: &str, extra: Vec<(&str, RefOr<Schema>)>) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new()
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
    if let RefOr::T(Schema::Object(o)) = whole {
        for (name, prop) in o.properties {
            b = b.property(name, nullable(prop));
        }
    }
    for (name, prop) in extra {
        b = b.property(name, prop);
    }
    b.into()
}
