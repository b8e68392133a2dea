//! Copies of a bound value cut down to what a reference's steps can reach: `subnet[*].id` needs
//! every subnet's `id`, not a copy of every subnet object. The evaluator works on owned
//! expressions, so without this each reference to a `for_each` resource copied all of its
//! instances; in a plan of thousands of resources that copying was a fifth of the time.
//!
//! A pruned copy gives the same result as the whole under the same steps. Wherever that could
//! differ (a missing key, whose error lists the keys that exist; an index, which depends on
//! position; a residual) the rest is copied whole.

use super::ast::{Expr, ExprKind, Step};
use crate::value::Value;

/// `base`, keeping only what `steps` can reach.
pub fn prune(base: &Expr, steps: &[Step]) -> Expr {
    let Some((step, rest)) = steps.split_first() else {
        return base.clone();
    };
    match (&base.kind, step) {
        (ExprKind::Literal(value), _) => {
            Expr::literal(prune_value(value, steps), base.span.clone())
        }
        (ExprKind::Map(entries), Step::Attr(name)) => {
            match entries.iter().find(|(k, _)| k == name) {
                Some((k, v)) => Expr::new(
                    ExprKind::Map(vec![(k.clone(), prune(v, rest))]),
                    base.span.clone(),
                ),
                None => base.clone(),
            }
        }
        (ExprKind::Map(entries), Step::Splat) => Expr::new(
            ExprKind::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), prune(v, rest)))
                    .collect(),
            ),
            base.span.clone(),
        ),
        (ExprKind::List(items), Step::Splat) => Expr::new(
            ExprKind::List(items.iter().map(|v| prune(v, rest)).collect()),
            base.span.clone(),
        ),
        _ => base.clone(),
    }
}

fn prune_value(value: &Value, steps: &[Step]) -> Value {
    let Some((step, rest)) = steps.split_first() else {
        return value.clone();
    };
    match (value, step) {
        (Value::Sensitive(inner), _) => Value::Sensitive(Box::new(prune_value(inner, steps))),
        (Value::Map(map), Step::Attr(name)) => match map.get_key_value(name) {
            Some((k, v)) => Value::Map([(k.clone(), prune_value(v, rest))].into()),
            None => value.clone(),
        },
        (Value::Map(map), Step::Splat) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), prune_value(v, rest)))
                .collect(),
        ),
        (Value::List(items), Step::Splat) => {
            Value::List(items.iter().map(|v| prune_value(v, rest)).collect())
        }
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::diagnostic::Diagnostic;
    use crate::spec::expr::{Scope, eval, parse_expr};
    use crate::spec::span::Span;
    use std::collections::BTreeMap;

    /// A scope with one binding, `subnet`, given whole or pruned to the reference's steps.
    struct OneBinding {
        subnet: Expr,
        pruned: bool,
    }

    impl Scope for OneBinding {
        fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic> {
            match name {
                "subnet" => Ok(self.subnet.clone()),
                _ => Err(Diagnostic::error_at(format!("no `{name}`"), span)),
            }
        }
        fn root_steps(&self, name: &str, steps: &[Step], span: &Span) -> Result<Expr, Diagnostic> {
            if !self.pruned {
                return self.root(name, span);
            }
            Ok(prune(&self.root(name, span)?, steps))
        }
    }

    fn subnets() -> Expr {
        let span = Span::synthetic("test");
        let object = |id: &str, zone: &str| {
            Value::Map(BTreeMap::from([
                ("id".to_string(), Value::string(id)),
                ("zone".to_string(), Value::string(zone)),
                (
                    "tags".to_string(),
                    Value::Map(BTreeMap::from([("Name".to_string(), Value::string(id))])),
                ),
            ]))
        };
        // One instance known, one still a residual (its id comes at apply).
        let residual = Expr::new(
            ExprKind::Map(vec![
                (
                    "id".into(),
                    Expr::new(
                        ExprKind::ResourceAttr {
                            addr: "fake_subnet.s[\"b\"]".into(),
                            path: vec![crate::spec::expr::PathStep::Key("id".into())],
                        },
                        span.clone(),
                    ),
                ),
                (
                    "zone".into(),
                    Expr::literal(Value::string("z2"), span.clone()),
                ),
            ]),
            span.clone(),
        );
        Expr::new(
            ExprKind::Map(vec![
                (
                    "a".into(),
                    Expr::literal(object("subnet-a", "z1"), span.clone()),
                ),
                ("b".into(), residual),
            ]),
            span,
        )
    }

    #[test]
    fn a_pruned_binding_evaluates_as_the_whole_one_does() {
        for text in [
            "subnet[*].id",
            "subnet[*].zone",
            "subnet.a.id",
            "subnet[\"a\"].tags.Name",
            "subnet.a",
            "subnet[*]",
            "subnet.a.tags[*]",
            "length(subnet)",
            "subnet.c.id",
            "subnet.a.nope",
            "subnet[*].nope",
            "subnet[0].id",
        ] {
            let expr = parse_expr(text, &Span::synthetic("test")).unwrap();
            let whole = eval(
                &expr,
                &OneBinding {
                    subnet: subnets(),
                    pruned: false,
                },
            );
            let pruned = eval(
                &expr,
                &OneBinding {
                    subnet: subnets(),
                    pruned: true,
                },
            );
            assert_eq!(
                format!("{whole:?}"),
                format!("{pruned:?}"),
                "`{text}` evaluates differently on a pruned binding"
            );
        }
    }

    #[test]
    fn a_splat_keeps_only_the_attribute_it_reads() {
        let pruned = prune(&subnets(), &[Step::Splat, Step::Attr("id".into())]);
        let text = format!("{pruned:?}");
        assert!(text.contains("subnet-a"), "{text}");
        assert!(!text.contains("z1") && !text.contains("Name"), "{text}");
    }
}
