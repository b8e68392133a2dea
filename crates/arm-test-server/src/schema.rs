//! Request-body validation against the swagger definitions and the example payloads: a property
//! is accepted if the type's swagger schema (following `$ref`s across files through
//! `swagger-ref-map.json`) or any of its example bodies has it at the same place. Only names are
//! checked, never values: the point is to catch a misspelled field in a client's structs.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::catalog::{CatalogError, SchemaRef, read_json};

/// The swagger files a catalog needs, plus every file they reach, parsed.
#[derive(Debug)]
pub struct Swagger {
    docs: HashMap<String, Value>,
    /// `swagger-ref-map.json`'s `files`: per local file, literal `$ref` file → local file or null.
    ref_map: Value,
}

/// A schema object inside one swagger file (the file matters: `$ref`s are relative to it).
#[derive(Debug, Clone, Copy)]
struct Node<'a> {
    file: &'a str,
    schema: &'a Value,
}

/// What a set of schemas says about the members of an object.
#[derive(Default)]
struct Members<'a> {
    named: HashMap<&'a str, Vec<Node<'a>>>,
    /// `additionalProperties`: `Some` if extra members are allowed, with their schemas.
    extra: Option<Vec<Node<'a>>>,
    /// Nothing can be said (an unresolvable `$ref`, a free-form object, polymorphism).
    open: bool,
}

impl Swagger {
    pub fn load(dir: &Path, roots: &[&str]) -> Result<Swagger, CatalogError> {
        let ref_map = read_json(dir, "swagger-ref-map.json")?
            .get("files")
            .cloned()
            .unwrap_or(Value::Null);
        let mut docs = HashMap::new();
        let mut todo: Vec<String> = roots.iter().map(|s| s.to_string()).collect();
        while let Some(file) = todo.pop() {
            if docs.contains_key(&file) {
                continue;
            }
            docs.insert(file.clone(), read_json(dir, &file)?);
            // Everything this file refers to that is available locally.
            if let Some(targets) = ref_map.get(&file).and_then(Value::as_object) {
                for target in targets.values().filter_map(Value::as_str) {
                    if !docs.contains_key(target) {
                        todo.push(target.to_string());
                    }
                }
            }
        }
        Ok(Swagger { docs, ref_map })
    }

    /// Checks `body` against the given schemas and example shapes. `Err` carries the dotted path
    /// of the first unknown property (`properties.addressSpace.addresPrefixes`).
    pub fn check(
        &self,
        body: &Value,
        schemas: &[SchemaRef],
        examples: &[Value],
    ) -> Result<(), String> {
        let mut nodes = Vec::new();
        for s in schemas {
            match self.definition(s) {
                Some(node) => nodes.push(node),
                // A definition named in the table but absent from its file would make every
                // body pass silently; treat the whole body as unknowable rather than guess.
                None => return Ok(()),
            }
        }
        let shapes: Vec<&Value> = examples.iter().collect();
        self.check_value(body, "", &shapes, &nodes)
    }

    /// Whether a table entry's schema exists (checked at load, so a typo in the table fails the
    /// start instead of switching validation off).
    pub fn has(&self, s: &SchemaRef) -> bool {
        self.definition(s).is_some()
    }

    fn definition(&self, s: &SchemaRef) -> Option<Node<'_>> {
        let (file, doc) = self.docs.get_key_value(s.file)?;
        let schema = doc.get("definitions")?.get(s.definition)?;
        Some(Node { file, schema })
    }

    fn check_value(
        &self,
        value: &Value,
        path: &str,
        examples: &[&Value],
        schemas: &[Node<'_>],
    ) -> Result<(), String> {
        match value {
            Value::Object(map) => self.check_object(map, path, examples, schemas),
            Value::Array(items) => {
                let child_examples: Vec<&Value> = examples
                    .iter()
                    .filter_map(|e| e.as_array())
                    .flatten()
                    .collect();
                let child_schemas: Vec<Node<'_>> = schemas
                    .iter()
                    .filter_map(|n| self.resolve(*n))
                    .filter_map(|n| {
                        n.schema.get("items").map(|items| Node {
                            file: n.file,
                            schema: items,
                        })
                    })
                    .collect();
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.check_value(item, &p, &child_examples, &child_schemas)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn check_object(
        &self,
        map: &Map<String, Value>,
        path: &str,
        examples: &[&Value],
        schemas: &[Node<'_>],
    ) -> Result<(), String> {
        let example_objects: Vec<&Map<String, Value>> =
            examples.iter().filter_map(|e| e.as_object()).collect();
        if example_objects.is_empty() && schemas.is_empty() {
            // Neither source knows this place (e.g. below an example's scalar): accept.
            return Ok(());
        }
        let mut members = Members::default();
        for node in schemas {
            self.collect(*node, &mut members, 0);
        }
        if members.open {
            return Ok(());
        }
        for (key, value) in map {
            let child_examples: Vec<&Value> =
                example_objects.iter().filter_map(|o| o.get(key)).collect();
            let mut child_schemas = members.named.get(key.as_str()).cloned().unwrap_or_default();
            let known = !child_examples.is_empty()
                || members.named.contains_key(key.as_str())
                || members.extra.is_some();
            let child_path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if !known {
                return Err(child_path);
            }
            if let Some(extra) = &members.extra {
                child_schemas.extend(extra.iter().copied());
            }
            self.check_value(value, &child_path, &child_examples, &child_schemas)?;
        }
        Ok(())
    }

    /// Gathers the members a schema allows: its `properties`, those of its `allOf` parents, and
    /// `additionalProperties`.
    fn collect<'a>(&'a self, node: Node<'a>, out: &mut Members<'a>, depth: usize) {
        // allOf chains are shallow; a bound keeps a cyclic file from hanging the server.
        if depth > 32 {
            out.open = true;
            return;
        }
        let Some(node) = self.resolve(node) else {
            out.open = true;
            return;
        };
        let s = node.schema;
        if s.get("discriminator").is_some() {
            // Subtypes add members the base does not list (OpenAPI 2.0 polymorphism).
            out.open = true;
        }
        let properties = s.get("properties").and_then(Value::as_object);
        let all_of = s.get("allOf").and_then(Value::as_array);
        let additional = s.get("additionalProperties");
        if let Some(props) = properties {
            for (name, schema) in props {
                out.named.entry(name.as_str()).or_default().push(Node {
                    file: node.file,
                    schema,
                });
            }
        }
        for parent in all_of.into_iter().flatten() {
            self.collect(
                Node {
                    file: node.file,
                    schema: parent,
                },
                out,
                depth + 1,
            );
        }
        match additional {
            Some(Value::Bool(true)) => {
                out.extra.get_or_insert_with(Vec::new);
            }
            Some(schema @ Value::Object(_)) => out.extra.get_or_insert_with(Vec::new).push(Node {
                file: node.file,
                schema,
            }),
            _ => {}
        }
        if properties.is_none() && all_of.is_none() && additional.is_none() {
            // `{"type": "object"}` and the like: any members.
            out.open = true;
        }
    }

    /// Follows `$ref`s until a schema without one; `None` when a target is not available locally
    /// (the caller then accepts anything there, as INDEX.md advises).
    fn resolve<'a>(&'a self, mut node: Node<'a>) -> Option<Node<'a>> {
        for _ in 0..32 {
            let Some(reference) = node.schema.get("$ref").and_then(Value::as_str) else {
                return Some(node);
            };
            let (file_part, pointer) = reference.split_once('#').unwrap_or((reference, ""));
            let file: &str = if file_part.is_empty() {
                node.file
            } else {
                self.ref_map.get(node.file)?.get(file_part)?.as_str()?
            };
            let (file, doc) = self.docs.get_key_value(file)?;
            node = Node {
                file,
                schema: doc.pointer(pointer)?,
            };
        }
        None
    }
}
