//! Resource schemas: each type's attributes with their types, required / optional / computed,
//! defaults, which force replacement and which are sensitive. Providers register their types
//! here; the loader checks properties against them and the differ reads them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub mod check;

use crate::value::Value;

/// The type of an attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrType {
    String,
    Number,
    Bool,
    List(Box<AttrType>),
    Map(Box<AttrType>),
    /// A nested block with its own attributes (such as `ingress` rules).
    Object(BTreeMap<String, AttrType>),
    /// Any structured value (container definitions, policy documents).
    Any,
}

impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrType::String => write!(f, "string"),
            AttrType::Number => write!(f, "number"),
            AttrType::Bool => write!(f, "bool"),
            AttrType::List(t) => write!(f, "list({t})"),
            AttrType::Map(t) => write!(f, "map({t})"),
            AttrType::Object(fields) => {
                write!(f, "object({{")?;
                for (i, (k, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k} = {t}")?;
                }
                write!(f, "}})")
            }
            AttrType::Any => write!(f, "any"),
        }
    }
}

/// Whether the user must, may, or cannot set an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Required,
    Optional,
    /// Set by the user or, when absent, by the cloud (Terraform's optional + computed).
    OptionalComputed,
    /// Only the cloud sets it (`id`, `arn`, `endpoint`).
    Computed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttrSchema {
    pub name: &'static str,
    pub ty: AttrType,
    pub presence: Presence,
    /// The value the cloud applies when the attribute is not set, so a second plan is empty.
    pub default: Option<Value>,
    /// Changing it deletes and recreates the resource.
    pub force_new: bool,
    /// Masked in output, hashed in state.
    pub sensitive: bool,
    /// A change is applied in the resource's next maintenance window unless the schema's
    /// [`Schema::apply_immediately`] attribute is true (RDS `instance_class`, `engine_version`).
    #[serde(default)]
    pub deferred: bool,
    pub description: &'static str,
}

impl AttrSchema {
    pub fn new(name: &'static str, ty: AttrType, presence: Presence) -> AttrSchema {
        AttrSchema {
            name,
            ty,
            presence,
            default: None,
            force_new: false,
            sensitive: false,
            deferred: false,
            description: "",
        }
    }
    pub fn required(name: &'static str, ty: AttrType) -> AttrSchema {
        AttrSchema::new(name, ty, Presence::Required)
    }
    pub fn optional(name: &'static str, ty: AttrType) -> AttrSchema {
        AttrSchema::new(name, ty, Presence::Optional)
    }
    pub fn optional_computed(name: &'static str, ty: AttrType) -> AttrSchema {
        AttrSchema::new(name, ty, Presence::OptionalComputed)
    }
    pub fn computed(name: &'static str, ty: AttrType) -> AttrSchema {
        AttrSchema::new(name, ty, Presence::Computed)
    }
    pub fn default(mut self, value: impl Into<Value>) -> AttrSchema {
        self.default = Some(value.into());
        self
    }
    pub fn force_new(mut self) -> AttrSchema {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> AttrSchema {
        self.sensitive = true;
        self
    }
    /// See [`AttrSchema::deferred`]; the schema must name its flag with
    /// [`Schema::apply_immediately`].
    pub fn deferred(mut self) -> AttrSchema {
        self.deferred = true;
        self
    }
    pub fn describe(mut self, text: &'static str) -> AttrSchema {
        self.description = text;
        self
    }
    pub fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }
    pub fn is_settable(&self) -> bool {
        self.presence != Presence::Computed
    }
}

/// Whether a type describes something cairn manages or only reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaKind {
    Resource,
    DataSource,
}

/// One resource type's schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub type_name: &'static str,
    /// The provider that owns the type (`fake`, `aws`, `azurerm`).
    pub provider: &'static str,
    pub kind: SchemaKind,
    pub description: &'static str,
    pub attributes: Vec<AttrSchema>,
    /// Typical seconds a create takes, so the scheduler starts long poles (databases, clusters)
    /// first.
    pub typical_create_secs: f64,
    /// What `cairn import ADDRESS ID` takes as ID when it is not simply the `id` attribute as
    /// the cloud shows it (a route: `rtb-0a1b2c3d_0.0.0.0/0`).
    pub import_id: &'static str,
    /// The boolean attribute that makes [`AttrSchema::deferred`] changes apply at once instead
    /// of in the maintenance window (`apply_immediately`); empty when the type has none.
    #[serde(default)]
    pub apply_immediately: &'static str,
}

impl Schema {
    pub fn resource(provider: &'static str, type_name: &'static str) -> Schema {
        Schema {
            type_name,
            provider,
            kind: SchemaKind::Resource,
            description: "",
            attributes: Vec::new(),
            typical_create_secs: 1.0,
            import_id: "",
            apply_immediately: "",
        }
    }
    pub fn data_source(provider: &'static str, type_name: &'static str) -> Schema {
        Schema {
            kind: SchemaKind::DataSource,
            ..Schema::resource(provider, type_name)
        }
    }
    pub fn describe(mut self, text: &'static str) -> Schema {
        self.description = text;
        self
    }
    pub fn attr(mut self, attr: AttrSchema) -> Schema {
        self.attributes.push(attr);
        self
    }
    pub fn import_id(mut self, format: &'static str) -> Schema {
        self.import_id = format;
        self
    }
    /// Names the flag of [`Schema::apply_immediately`].
    pub fn apply_immediately(mut self, flag: &'static str) -> Schema {
        self.apply_immediately = flag;
        self
    }
    /// Whether a change to `attr` waits for the maintenance window, given the configured value
    /// of the [`Schema::apply_immediately`] flag.
    pub fn waits_for_maintenance(&self, attr: &str, apply_immediately: Option<&Value>) -> bool {
        !self.apply_immediately.is_empty()
            && self.attribute(attr).is_some_and(|a| a.deferred)
            && apply_immediately != Some(&Value::Bool(true))
    }
    pub fn typical_create_secs(mut self, secs: f64) -> Schema {
        self.typical_create_secs = secs;
        self
    }
    pub fn attribute(&self, name: &str) -> Option<&AttrSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
    /// Whether the environment's `tags` are merged into this type.
    pub fn is_taggable(&self) -> bool {
        self.attribute("tags")
            .is_some_and(|a| a.is_settable() && matches!(a.ty, AttrType::Map(_)))
    }
}

/// Every resource type cairn knows, by name.
#[derive(Clone, Debug, Default)]
pub struct SchemaRegistry {
    schemas: BTreeMap<&'static str, Schema>,
}

impl SchemaRegistry {
    pub fn register(&mut self, schema: Schema) {
        self.schemas.insert(schema.type_name, schema);
    }
    pub fn get(&self, type_name: &str) -> Option<&Schema> {
        self.schemas.get(type_name)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Schema> {
        self.schemas.values()
    }
    pub fn type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.schemas.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> Schema {
        Schema::resource("aws", "aws_db_instance")
            .apply_immediately("apply_immediately")
            .attr(AttrSchema::required("instance_class", AttrType::String).deferred())
            .attr(AttrSchema::optional(
                "tags",
                AttrType::Map(Box::new(AttrType::String)),
            ))
            .attr(AttrSchema::optional("apply_immediately", AttrType::Bool))
    }

    #[test]
    fn a_deferred_change_waits_unless_the_spec_applies_it_immediately() {
        let db = database();
        assert!(db.waits_for_maintenance("instance_class", None));
        assert!(db.waits_for_maintenance("instance_class", Some(&Value::Bool(false))));
        assert!(!db.waits_for_maintenance("instance_class", Some(&Value::Bool(true))));
        assert!(
            !db.waits_for_maintenance("tags", None),
            "tags apply at once"
        );
        let flagless = Schema {
            apply_immediately: "",
            ..database()
        };
        assert!(!flagless.waits_for_maintenance("instance_class", None));
    }
}
