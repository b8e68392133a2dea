//! Partial evaluation of expressions, and the static reference list the graph is built from.
//!
//! `eval` folds what is known into literals and rebuilds the rest as a residual over
//! `ResourceAttr`. Two kinds of "not known" exist: a residual node (resolvable later, when the
//! named resource exists) and `Literal(Value::Unknown)` (unknowable here; anything computed from
//! it is unknown too).

use std::collections::BTreeMap;

use crate::limits::{MAX_STRING_BYTES, MAX_VALUE_DEPTH, MAX_VALUE_SIZE, value_measure};
use crate::spec::diagnostic::{Diagnostic, did_you_mean};
use crate::spec::span::Span;
use crate::value::{Value, format_number};

use super::Scope;
use super::ast::{BinaryOp, Expr, ExprKind, PathStep, Step, UnaryOp};
use super::functions::{self, FUNCTION_NAMES};

/// A name an expression refers to, found without evaluating it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The root identifier: `vpc`, `inputs`, `module`, `each`.
    pub root: String,
    /// The attribute names written with dots right after the root: `[db, endpoint]` in
    /// `module.db.endpoint`, `[id]` in `vpc.id`, `[]` in `subnet[0].id`.
    pub attrs: Vec<String>,
    pub span: Span,
}

/// Every reference in `expr`, in source order.
pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut out = Vec::new();
    expr.visit(&mut |e| {
        if let ExprKind::Ref { root, steps } = &e.kind {
            let attrs = steps
                .iter()
                .map_while(|s| match s {
                    Step::Attr(name) => Some(name.clone()),
                    _ => None,
                })
                .collect();
            out.push(Reference {
                root: root.clone(),
                attrs,
                span: e.span.clone(),
            });
        }
    });
    out
}

/// Evaluates `expr` as far as `scope` allows: the result is a literal when everything it needs
/// is known, otherwise a residual expression over `ResourceAttr` nodes.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Expr, Diagnostic> {
    Evaluator { scope }.eval(expr)
}

struct Evaluator<'s> {
    scope: &'s dyn Scope,
}

/// How known an evaluated operand is.
enum Known<'a> {
    Value(&'a Value),
    /// `Literal(Value::Unknown)`: can never be resolved from here.
    Unknown,
    /// A residual node: may resolve at apply time.
    Residual,
}

fn known(expr: &Expr) -> Known<'_> {
    match &expr.kind {
        ExprKind::Literal(v) if matches!(v.expose(), Value::Unknown) => Known::Unknown,
        ExprKind::Literal(v) => Known::Value(v),
        _ => Known::Residual,
    }
}

fn unknown(span: &Span) -> Expr {
    Expr::literal(Value::Unknown, span.clone())
}

fn sensitive(value: Value) -> Value {
    match value {
        Value::Sensitive(_) => value,
        other => Value::Sensitive(Box::new(other)),
    }
}

fn attr_name(step: &Step) -> &str {
    match step {
        Step::Attr(name) => name,
        _ => "",
    }
}

impl Evaluator<'_> {
    fn eval(&self, expr: &Expr) -> Result<Expr, Diagnostic> {
        let span = &expr.span;
        match &expr.kind {
            ExprKind::Literal(_) => Ok(expr.clone()),
            ExprKind::Ref { root, steps } => {
                // `inputs.cidr` needs one input, not all of them: let the scope pick it.
                let picked = match steps.first() {
                    Some(Step::Attr(attr)) => self.scope.root_attr(root, attr, span).transpose()?,
                    _ => None,
                };
                let (base, steps, what) = match picked {
                    Some(value) => {
                        // Built by hand: `format!` here was a tenth of evaluating a reference.
                        let attr = attr_name(&steps[0]);
                        let mut what = String::with_capacity(root.len() + 1 + attr.len());
                        what.push_str(root);
                        what.push('.');
                        what.push_str(attr);
                        (value, &steps[1..], what)
                    }
                    None => (
                        self.scope.root_steps(root, steps, span)?,
                        &steps[..],
                        root.clone(),
                    ),
                };
                let base = self.settle(base)?;
                let result = self.apply_steps(base, steps, what, span)?;
                match result.kind {
                    ExprKind::Literal(_) => Ok(result),
                    // The root's value may hold partly known nodes; fold what is known now.
                    _ => self.eval(&result),
                }
            }
            ExprKind::ResourceAttr { addr, path } => self.resolve_resource_attr(addr, path, span),
            ExprKind::Template(parts) => self.template(parts, span),
            ExprKind::List(items) => {
                let mut growth = Growth::default();
                let items = items
                    .iter()
                    .map(|i| growth.add(self.eval(i)?, 0, span))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|i| i.as_literal().is_some()) {
                    let values = items.into_iter().map(into_value).collect();
                    Ok(Expr::literal(Value::List(values), span.clone()))
                } else {
                    Ok(Expr::new(ExprKind::List(items), span.clone()))
                }
            }
            ExprKind::Map(entries) => {
                let mut growth = Growth::default();
                let entries = entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), growth.add(self.eval(v)?, k.len(), span)?)))
                    .collect::<Result<Vec<_>, Diagnostic>>()?;
                if entries.iter().all(|(_, v)| v.as_literal().is_some()) {
                    let map: BTreeMap<String, Value> = entries
                        .into_iter()
                        .map(|(k, v)| (k, into_value(v)))
                        .collect();
                    Ok(Expr::literal(Value::Map(map), span.clone()))
                } else {
                    Ok(Expr::new(ExprKind::Map(entries), span.clone()))
                }
            }
            ExprKind::Unary(op, operand) => {
                let operand = self.eval(operand)?;
                self.unary(*op, operand, span)
            }
            ExprKind::Binary(op, left, right) => self.binary(*op, left, right, span),
            ExprKind::Conditional(cond, yes, no) => {
                let cond = self.eval(cond)?;
                match known(&cond) {
                    Known::Value(v) => {
                        let Some(chosen) = v.as_bool() else {
                            return Err(Diagnostic::error_at(
                                format!(
                                    "the condition of `? :` must be a bool, got {}",
                                    describe(v)
                                ),
                                &cond.span,
                            )
                            .with_help(
                                "compare to get a bool, like `length(x) > 0` or `x != \"\"`",
                            ));
                        };
                        let secret = v.is_sensitive();
                        let result = self.eval(if chosen { yes } else { no })?;
                        Ok(if secret {
                            mark_sensitive(result)
                        } else {
                            result
                        })
                    }
                    Known::Unknown => Ok(unknown(span)),
                    Known::Residual => Ok(Expr::new(
                        ExprKind::Conditional(
                            Box::new(cond),
                            Box::new(self.eval(yes)?),
                            Box::new(self.eval(no)?),
                        ),
                        span.clone(),
                    )),
                }
            }
            ExprKind::Call(name, args) => self.call(name, args, span),
            ExprKind::Traverse(base, steps) => {
                let base = self.eval(base)?;
                let what = describe_expr(&base);
                self.apply_steps(base, steps, what, span)
            }
        }
    }

    /// A value from `Scope::root` or a picked child, with resolvable `ResourceAttr`s resolved.
    fn settle(&self, expr: Expr) -> Result<Expr, Diagnostic> {
        match &expr.kind {
            ExprKind::ResourceAttr { addr, path } => {
                self.resolve_resource_attr(addr, path, &expr.span)
            }
            _ => Ok(expr),
        }
    }

    fn resolve_resource_attr(
        &self,
        addr: &str,
        path: &[PathStep],
        span: &Span,
    ) -> Result<Expr, Diagnostic> {
        let Some(mut value) = self.scope.resource(addr) else {
            return Ok(Expr::new(
                ExprKind::ResourceAttr {
                    addr: addr.to_string(),
                    path: path.to_vec(),
                },
                span.clone(),
            ));
        };
        let mut what = addr.to_string();
        for step in path {
            value = match step {
                PathStep::Key(key) => get_key(value, key, &what, span)?,
                PathStep::Index(i) => get_index(value, *i as f64, &what, span)?,
            };
            push_path(&mut what, step);
        }
        Ok(Expr::literal(value, span.clone()))
    }

    /// Applies traversal steps to an evaluated value. `what` names the value for messages
    /// (`vpc`, `inputs.tags`).
    fn apply_steps(
        &self,
        mut cur: Expr,
        steps: &[Step],
        mut what: String,
        span: &Span,
    ) -> Result<Expr, Diagnostic> {
        for (i, step) in steps.iter().enumerate() {
            let key = match step {
                Step::Splat => return self.splat(cur, &steps[i + 1..], what, span),
                Step::Attr(name) => Value::String(name.clone()),
                Step::Index(index) => {
                    let index = self.eval(index)?;
                    match known(&index) {
                        Known::Value(v) => v.expose().clone(),
                        Known::Unknown => return Ok(unknown(span)),
                        Known::Residual => {
                            let mut rest = vec![Step::Index(index)];
                            rest.extend(self.fold_steps(&steps[i + 1..])?);
                            return Ok(traverse(cur, rest, span));
                        }
                    }
                }
            };
            let by_attr = matches!(step, Step::Attr(_));
            cur = self.step(cur, &key, by_attr, &what, span, step)?;
            match step {
                Step::Attr(name) => {
                    what.push('.');
                    what.push_str(name);
                }
                _ => {
                    let _ = write_index(&mut what, &key);
                }
            }
            if matches!(cur.kind, ExprKind::Traverse(..)) || is_unknown(&cur) {
                // Not navigable now: keep the remaining steps on the residual.
                if is_unknown(&cur) {
                    return Ok(unknown(span));
                }
                if let ExprKind::Traverse(_, ref mut pending) = cur.kind {
                    pending.extend(self.fold_steps(&steps[i + 1..])?);
                }
                return Ok(cur);
            }
        }
        Ok(cur)
    }

    /// One attribute or index step on an evaluated value.
    fn step(
        &self,
        cur: Expr,
        key: &Value,
        by_attr: bool,
        what: &str,
        span: &Span,
        step: &Step,
    ) -> Result<Expr, Diagnostic> {
        let step_span = match step {
            Step::Index(index) => &index.span,
            _ => span,
        };
        match cur.kind {
            ExprKind::Literal(value) => {
                let secret = value.is_sensitive();
                let value = match value {
                    Value::Sensitive(inner) => *inner,
                    other => other,
                };
                if matches!(value, Value::Unknown) {
                    return Ok(unknown(span));
                }
                let picked = match (key, by_attr) {
                    (Value::String(name), true) => get_attr(value, name, what, span)?,
                    (Value::String(name), false) => {
                        match value {
                            Value::List(_) => {
                                let n = name.parse::<f64>().map_err(|_| {
                                Diagnostic::error_at(
                                    format!("`{what}` is a list; index it with a number, not {name:?}"),
                                    step_span,
                                )
                            })?;
                                get_index(value, n, what, step_span)?
                            }
                            other => get_key(other, name, what, step_span)?,
                        }
                    }
                    (Value::Number(n), _) => match value {
                        Value::Map(_) => get_key(value, &format_number(*n), what, step_span)?,
                        other => get_index(other, *n, what, step_span)?,
                    },
                    (other, _) => {
                        return Err(Diagnostic::error_at(
                            format!(
                                "an index must be a number or a string, got {}",
                                describe(other)
                            ),
                            step_span,
                        ));
                    }
                };
                Ok(Expr::literal(
                    if secret { sensitive(picked) } else { picked },
                    span.clone(),
                ))
            }
            ExprKind::Map(entries) => {
                let name = match key {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => format_number(*n),
                    other => {
                        return Err(Diagnostic::error_at(
                            format!("a map key must be a string, got {}", describe(other)),
                            step_span,
                        ));
                    }
                };
                let keys: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
                match entries.into_iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => self.settle(v),
                    None => Err(missing_attr(
                        what,
                        &name,
                        keys.iter().map(String::as_str),
                        span,
                    )),
                }
            }
            ExprKind::List(mut items) => {
                let n = match key {
                    Value::Number(n) => *n,
                    Value::String(s) if !by_attr => s.parse::<f64>().unwrap_or(f64::NAN),
                    _ => f64::NAN,
                };
                if by_attr || n.is_nan() {
                    return Err(not_a_map(what, key, step_span));
                }
                let i = check_index(n, items.len(), what, step_span)?;
                self.settle(items.swap_remove(i))
            }
            ExprKind::ResourceAttr { addr, mut path } => {
                path.push(match key {
                    Value::Number(n) if !by_attr && *n >= 0.0 && n.fract() == 0.0 => {
                        PathStep::Index(*n as usize)
                    }
                    Value::Number(n) => PathStep::Key(format_number(*n)),
                    Value::String(s) => PathStep::Key(s.clone()),
                    other => {
                        return Err(Diagnostic::error_at(
                            format!(
                                "an index must be a number or a string, got {}",
                                describe(other)
                            ),
                            step_span,
                        ));
                    }
                });
                Ok(Expr::new(
                    ExprKind::ResourceAttr { addr, path },
                    span.clone(),
                ))
            }
            kind => {
                // Any other residual: navigate it once it is known.
                let folded = match step {
                    Step::Attr(name) => Step::Attr(name.clone()),
                    _ => Step::Index(Expr::literal(key.clone(), step_span.clone())),
                };
                Ok(traverse(Expr::new(kind, cur.span), vec![folded], span))
            }
        }
    }

    /// `[*]`: the remaining steps applied to every element.
    fn splat(
        &self,
        cur: Expr,
        rest: &[Step],
        what: String,
        span: &Span,
    ) -> Result<Expr, Diagnostic> {
        let mut what_each = what;
        what_each.push_str("[*]");
        let elements: Vec<Expr> = match cur.kind {
            ExprKind::Literal(value) => {
                let secret = value.is_sensitive();
                let value = match value {
                    Value::Sensitive(inner) => *inner,
                    other => other,
                };
                let items: Vec<Value> = match value {
                    Value::Unknown => return Ok(unknown(span)),
                    Value::Null => Vec::new(),
                    Value::List(items) => items,
                    Value::Map(map) => map.into_values().collect(),
                    single => vec![single],
                };
                items
                    .into_iter()
                    .map(|v| Expr::literal(if secret { sensitive(v) } else { v }, cur.span.clone()))
                    .collect()
            }
            ExprKind::List(items) => items,
            ExprKind::Map(mut entries) => {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.into_iter().map(|(_, v)| v).collect()
            }
            kind => {
                let mut steps = vec![Step::Splat];
                steps.extend(self.fold_steps(rest)?);
                return Ok(traverse(Expr::new(kind, cur.span), steps, span));
            }
        };
        let mut out = Vec::with_capacity(elements.len());
        for element in elements {
            let element = self.settle(element)?;
            out.push(self.apply_steps(element, rest, what_each.clone(), span)?);
        }
        if out.iter().all(|e| e.as_literal().is_some()) {
            let values = out.into_iter().map(into_value).collect();
            Ok(Expr::literal(Value::List(values), span.clone()))
        } else {
            Ok(Expr::new(ExprKind::List(out), span.clone()))
        }
    }

    /// Steps kept on a residual, with their index expressions evaluated.
    fn fold_steps(&self, steps: &[Step]) -> Result<Vec<Step>, Diagnostic> {
        steps
            .iter()
            .map(|step| {
                Ok(match step {
                    Step::Index(index) => Step::Index(self.eval(index)?),
                    other => other.clone(),
                })
            })
            .collect()
    }

    fn template(&self, parts: &[Expr], span: &Span) -> Result<Expr, Diagnostic> {
        let mut folded: Vec<Expr> = Vec::with_capacity(parts.len());
        let mut secret = false;
        let mut any_unknown = false;
        let mut text = String::new();
        let mut residual = false;
        // Counted as the text grows, so a template that repeats a large string stops at the
        // limit instead of building it whole.
        let mut known_bytes = 0usize;
        for part in parts {
            let part = self.eval(part)?;
            match known(&part) {
                Known::Unknown => any_unknown = true,
                Known::Residual => {
                    residual = true;
                    if !text.is_empty() {
                        folded.push(Expr::literal(
                            Value::String(std::mem::take(&mut text)),
                            span.clone(),
                        ));
                    }
                    folded.push(part);
                }
                Known::Value(v) => {
                    let piece = template_text(v, &part.span)?;
                    known_bytes += piece.len();
                    if known_bytes > MAX_STRING_BYTES {
                        return Err(string_too_long(span));
                    }
                    if v.is_sensitive() {
                        // Keep secrets in their own part, so a residual never holds them in
                        // plain text.
                        secret = true;
                        if !text.is_empty() {
                            folded.push(Expr::literal(
                                Value::String(std::mem::take(&mut text)),
                                span.clone(),
                            ));
                        }
                        folded.push(Expr::literal(
                            sensitive(Value::String(piece)),
                            part.span.clone(),
                        ));
                    } else {
                        text.push_str(&piece);
                    }
                }
            }
        }
        if any_unknown {
            return Ok(unknown(span));
        }
        if !residual {
            let mut all = String::new();
            for part in &folded {
                if let Some(s) = part.as_literal().and_then(Value::as_str) {
                    all.push_str(s);
                }
            }
            all.push_str(&text);
            let value = Value::String(all);
            return Ok(Expr::literal(
                if secret { sensitive(value) } else { value },
                span.clone(),
            ));
        }
        if !text.is_empty() {
            folded.push(Expr::literal(Value::String(text), span.clone()));
        }
        Ok(Expr::new(ExprKind::Template(folded), span.clone()))
    }

    fn unary(&self, op: UnaryOp, operand: Expr, span: &Span) -> Result<Expr, Diagnostic> {
        let value = match known(&operand) {
            Known::Value(v) => v,
            Known::Unknown => return Ok(unknown(span)),
            Known::Residual => {
                return Ok(Expr::new(
                    ExprKind::Unary(op, Box::new(operand)),
                    span.clone(),
                ));
            }
        };
        let result = match (op, value.expose()) {
            (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
            (UnaryOp::Neg, Value::Number(n)) => Value::Number(-n),
            (UnaryOp::Not, other) => {
                return Err(Diagnostic::error_at(
                    format!("`!` needs a bool, got {}", describe(other)),
                    span,
                ));
            }
            (UnaryOp::Neg, other) => {
                return Err(Diagnostic::error_at(
                    format!("`-` needs a number, got {}", describe(other)),
                    span,
                ));
            }
        };
        Ok(Expr::literal(
            if value.is_sensitive() {
                sensitive(result)
            } else {
                result
            },
            span.clone(),
        ))
    }

    fn binary(
        &self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        span: &Span,
    ) -> Result<Expr, Diagnostic> {
        let left = self.eval(left)?;
        // `&&` and `||` decide on a known left side alone.
        if let (BinaryOp::And | BinaryOp::Or, Known::Value(l)) = (op, known(&left))
            && let Some(b) = l.as_bool()
            && ((op == BinaryOp::And && !b) || (op == BinaryOp::Or && b))
        {
            return Ok(left);
        }
        let right = self.eval(right)?;
        let (l, r) = match (known(&left), known(&right)) {
            (Known::Value(l), Known::Value(r)) => (l, r),
            (Known::Unknown, _) | (_, Known::Unknown) => return Ok(unknown(span)),
            _ => {
                return Ok(Expr::new(
                    ExprKind::Binary(op, Box::new(left), Box::new(right)),
                    span.clone(),
                ));
            }
        };
        let secret = l.contains_sensitive() || r.contains_sensitive();
        if l.contains_unknown() || r.contains_unknown() {
            return Ok(unknown(span));
        }
        let result = compute_binary(op, l.expose(), r.expose(), span, &right.span)?;
        Ok(Expr::literal(
            if secret { sensitive(result) } else { result },
            span.clone(),
        ))
    }

    fn call(&self, name: &str, args: &[Expr], span: &Span) -> Result<Expr, Diagnostic> {
        if !FUNCTION_NAMES.contains(&name) {
            let mut err = Diagnostic::error_at(format!("unknown function `{name}`"), span);
            if let Some(close) = did_you_mean(name, FUNCTION_NAMES.iter().copied()) {
                err = err.with_help(format!("did you mean `{close}`?"));
            }
            return Err(err);
        }
        let args = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<Vec<_>, _>>()?;
        if name == "length"
            && let [only] = args.as_slice()
        {
            match &only.kind {
                ExprKind::List(items) => {
                    return Ok(Expr::literal(
                        Value::Number(items.len() as f64),
                        span.clone(),
                    ));
                }
                ExprKind::Map(entries) => {
                    return Ok(Expr::literal(
                        Value::Number(entries.len() as f64),
                        span.clone(),
                    ));
                }
                _ => {}
            }
        }
        let mut any_unknown = false;
        for arg in &args {
            match known(arg) {
                Known::Residual => {
                    return Ok(Expr::new(
                        ExprKind::Call(name.to_string(), args),
                        span.clone(),
                    ));
                }
                Known::Unknown => any_unknown = true,
                Known::Value(v) => {
                    // A list of unknowns still has a known length; other functions need the
                    // elements themselves.
                    if v.contains_unknown()
                        && !(name == "length"
                            && matches!(v.expose(), Value::List(_) | Value::Map(_)))
                    {
                        any_unknown = true;
                    }
                }
            }
        }
        if any_unknown {
            return Ok(unknown(span));
        }
        let spans: Vec<Span> = args.iter().map(|a| a.span.clone()).collect();
        let values: Vec<Value> = args.into_iter().map(into_value).collect();
        let result = functions::call(name, values, &spans, span)?;
        Ok(Expr::literal(result, span.clone()))
    }
}

fn into_value(expr: Expr) -> Value {
    match expr.kind {
        ExprKind::Literal(v) => v,
        _ => Value::Unknown,
    }
}

fn is_unknown(expr: &Expr) -> bool {
    matches!(known(expr), Known::Unknown)
}

fn traverse(base: Expr, steps: Vec<Step>, span: &Span) -> Expr {
    match base.kind {
        ExprKind::Traverse(inner, mut pending) => {
            pending.extend(steps);
            Expr::new(ExprKind::Traverse(inner, pending), span.clone())
        }
        kind => Expr::new(
            ExprKind::Traverse(Box::new(Expr::new(kind, base.span)), steps),
            span.clone(),
        ),
    }
}

/// Marks an evaluated result sensitive (a literal is wrapped; a residual is left alone: it
/// becomes sensitive when its sensitive inputs are folded in).
fn mark_sensitive(expr: Expr) -> Expr {
    match expr.kind {
        ExprKind::Literal(v) if !matches!(v, Value::Unknown) => {
            Expr::literal(sensitive(v), expr.span)
        }
        _ => expr,
    }
}

fn describe(value: &Value) -> String {
    match value.expose() {
        Value::List(_) | Value::Map(_) | Value::Null => value.type_name().to_string(),
        _ if value.is_sensitive() => format!("a sensitive {}", value.type_name()),
        _ => format!("a {} ({value})", value.type_name()),
    }
}

/// A short name for a computed value, for messages about navigating it.
fn describe_expr(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Call(name, _) => format!("{name}(...)"),
        ExprKind::ResourceAttr { addr, path } => {
            let mut s = addr.clone();
            path.iter().for_each(|step| push_path(&mut s, step));
            s
        }
        _ => "the value".to_string(),
    }
}

fn push_path(what: &mut String, step: &PathStep) {
    match step {
        PathStep::Key(k) => {
            what.push('.');
            what.push_str(k);
        }
        PathStep::Index(i) => {
            let _ = std::fmt::Write::write_fmt(what, format_args!("[{i}]"));
        }
    }
}

fn write_index(what: &mut String, key: &Value) -> std::fmt::Result {
    use std::fmt::Write as _;
    match key {
        Value::Number(n) => write!(what, "[{}]", format_number(*n)),
        Value::String(s) => write!(what, "[{s:?}]"),
        _ => Ok(()),
    }
}

fn missing_attr<'a>(
    what: &str,
    name: &str,
    keys: impl Iterator<Item = &'a str> + Clone,
    span: &Span,
) -> Diagnostic {
    let listed: Vec<&str> = keys.clone().take(30).collect();
    let available = if listed.is_empty() {
        "it has no attributes".to_string()
    } else {
        format!("it has: {}", listed.join(", "))
    };
    let help = match did_you_mean(name, keys) {
        Some(close) => format!("did you mean `{close}`? {available}"),
        None => available,
    };
    Diagnostic::error_at(format!("`{what}` has no attribute `{name}`"), span).with_help(help)
}

fn not_a_map(what: &str, key: &Value, span: &Span) -> Diagnostic {
    let name = match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Diagnostic::error_at(
        format!("`{what}` is a list, so it has no attribute `{name}`"),
        span,
    )
    .with_help(format!(
        "pick an element with `{what}[0].{name}`, or every element with `{what}[*].{name}`"
    ))
}

fn get_attr(value: Value, name: &str, what: &str, span: &Span) -> Result<Value, Diagnostic> {
    match value {
        Value::Map(mut map) => match map.remove(name) {
            Some(v) => Ok(v),
            None => Err(missing_attr(
                what,
                name,
                map.keys().map(String::as_str),
                span,
            )),
        },
        Value::List(_) => Err(not_a_map(what, &Value::string(name), span)),
        Value::Null => Err(Diagnostic::error_at(
            format!("`{what}` is null, so it has no attribute `{name}`"),
            span,
        )),
        other => Err(Diagnostic::error_at(
            format!(
                "`{what}` is {}, so it has no attribute `{name}`",
                describe(&other)
            ),
            span,
        )),
    }
}

fn get_key(value: Value, key: &str, what: &str, span: &Span) -> Result<Value, Diagnostic> {
    match value {
        Value::Sensitive(inner) => get_key(*inner, key, what, span).map(sensitive),
        Value::Map(mut map) => match map.remove(key) {
            Some(v) => Ok(v),
            None => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                let mut err = Diagnostic::error_at(format!("`{what}` has no key {key:?}"), span);
                let listed = keys.iter().take(30).copied().collect::<Vec<_>>().join(", ");
                err = err.with_help(match did_you_mean(key, keys.iter().copied()) {
                    Some(close) => format!("did you mean {close:?}? it has: {listed}"),
                    None if keys.is_empty() => "the map is empty".to_string(),
                    None => format!("it has: {listed}"),
                });
                Err(err)
            }
        },
        Value::List(items) => match key.parse::<f64>() {
            Ok(n) => get_index(Value::List(items), n, what, span),
            Err(_) => Err(not_a_map(what, &Value::string(key), span)),
        },
        Value::Unknown => Ok(Value::Unknown),
        other => Err(Diagnostic::error_at(
            format!("`{what}` is {}, so it has no key {key:?}", describe(&other)),
            span,
        )),
    }
}

fn check_index(n: f64, len: usize, what: &str, span: &Span) -> Result<usize, Diagnostic> {
    if n.fract() != 0.0 || n < 0.0 {
        return Err(Diagnostic::error_at(
            format!(
                "a list index must be a whole number from 0, got {}",
                format_number(n)
            ),
            span,
        ));
    }
    if n >= len as f64 {
        let elements = if len == 1 { "element" } else { "elements" };
        let mut err = Diagnostic::error_at(
            format!(
                "index {} is out of range: `{what}` has {len} {elements}",
                format_number(n)
            ),
            span,
        );
        if len > 0 {
            err = err.with_help(format!("valid indexes are 0 to {}", len - 1));
        }
        return Err(err);
    }
    Ok(n as usize)
}

fn get_index(value: Value, n: f64, what: &str, span: &Span) -> Result<Value, Diagnostic> {
    match value {
        Value::Sensitive(inner) => get_index(*inner, n, what, span).map(sensitive),
        Value::List(mut items) => {
            let i = check_index(n, items.len(), what, span)?;
            Ok(items.swap_remove(i))
        }
        Value::Map(_) => get_key(value, &format_number(n), what, span),
        Value::Unknown => Ok(Value::Unknown),
        Value::Null => Err(Diagnostic::error_at(
            format!("`{what}` is null, so it cannot be indexed"),
            span,
        )),
        other => Err(Diagnostic::error_at(
            format!("`{what}` is {}, so it cannot be indexed", describe(&other)),
            span,
        )),
    }
}

/// The size and depth of a list or map being built from evaluated items, checked item by item
/// against `crate::limits` so that locals which reference each other twice (doubling a value at
/// every step) fail at the limit rather than exhaust memory.
#[derive(Default)]
struct Growth {
    size: usize,
    depth: usize,
}

impl Growth {
    fn add(&mut self, item: Expr, key_len: usize, span: &Span) -> Result<Expr, Diagnostic> {
        if let Some(value) = item.as_literal() {
            let (size, depth) = value_measure(value);
            self.size = self.size.saturating_add(size + key_len + 1);
            self.depth = self.depth.max(depth + 1);
        }
        if self.size > MAX_VALUE_SIZE || self.depth > MAX_VALUE_DEPTH {
            return Err(Diagnostic::error_at(
                format!(
                    "this value is too large: over the limit of {} Mi units (elements plus bytes of text) or {MAX_VALUE_DEPTH} levels of nesting",
                    MAX_VALUE_SIZE >> 20
                ),
                span,
            )
            .with_help("a value that refers to itself twice, directly or through locals, doubles at every step; build smaller values"));
        }
        Ok(item)
    }
}

fn string_too_long(span: &Span) -> Diagnostic {
    Diagnostic::error_at(
        format!(
            "this string is too long: over the limit of {} MiB of text",
            MAX_STRING_BYTES >> 20
        ),
        span,
    )
    .with_help("a template that repeats a large string, directly or through locals, grows at every step; build smaller strings")
}

/// A known part of a template as text.
fn template_text(value: &Value, span: &Span) -> Result<String, Diagnostic> {
    match value.expose() {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(format_number(*n)),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(Diagnostic::error_at(
            "the expression is null; a template cannot include null",
            span,
        )
        .with_help("give a default, like `coalesce(x, \"\")`, or a conditional")),
        other => Err(Diagnostic::error_at(
            format!(
                "the expression is a {}; a template can only include strings, numbers and bools",
                other.type_name()
            ),
            span,
        )
        .with_help("use join() or jsonencode()")),
    }
}

fn compute_binary(
    op: BinaryOp,
    l: &Value,
    r: &Value,
    span: &Span,
    right_span: &Span,
) -> Result<Value, Diagnostic> {
    use BinaryOp::*;
    Ok(match op {
        Eq => Value::Bool(l.same_ignoring_sensitivity(r)),
        Ne => Value::Bool(!l.same_ignoring_sensitivity(r)),
        And | Or => {
            let (Some(a), Some(b)) = (l.as_bool(), r.as_bool()) else {
                let symbol = if op == And { "&&" } else { "||" };
                let bad = if l.as_bool().is_none() { l } else { r };
                return Err(Diagnostic::error_at(
                    format!(
                        "`{symbol}` needs bools on both sides, got {}",
                        describe(bad)
                    ),
                    span,
                ));
            };
            Value::Bool(if op == And { a && b } else { a || b })
        }
        Lt | Le | Gt | Ge => {
            let (a, b) = numbers(op, l, r, span)?;
            Value::Bool(match op {
                Lt => a < b,
                Le => a <= b,
                Gt => a > b,
                _ => a >= b,
            })
        }
        Add | Sub | Mul | Div | Mod => {
            let (a, b) = numbers(op, l, r, span)?;
            if matches!(op, Div | Mod) && b == 0.0 {
                return Err(Diagnostic::error_at("division by zero", right_span)
                    .with_help("check the divisor first, like `b == 0 ? 0 : a / b`"));
            }
            let result = match op {
                Add => a + b,
                Sub => a - b,
                Mul => a * b,
                Div => a / b,
                // Terraform's `%` keeps the sign of the dividend, like Rust's.
                _ => a % b,
            };
            if !result.is_finite() {
                return Err(Diagnostic::error_at(
                    "the result is too large to be a number",
                    span,
                ));
            }
            Value::Number(result)
        }
    })
}

/// Both operands as numbers, or an error that says which operation needed them.
fn numbers(op: BinaryOp, l: &Value, r: &Value, span: &Span) -> Result<(f64, f64), Diagnostic> {
    use BinaryOp::*;
    if let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) {
        return Ok((a, b));
    }
    let verb = match op {
        Add => "add",
        Sub => "subtract",
        Mul => "multiply",
        Div => "divide",
        Mod => "take the remainder of",
        _ => "compare",
    };
    let mut message = format!("cannot {verb} a {} and a {}", l.type_name(), r.type_name());
    if op == Add && (l.as_str().is_some() || r.as_str().is_some()) {
        message.push_str("; use format() or \"${a}${b}\" to build a string");
    } else if matches!(op, Lt | Le | Gt | Ge) {
        message.push_str("; only numbers can be ordered");
    } else {
        message.push_str("; arithmetic needs numbers");
    }
    Err(Diagnostic::error_at(message, span))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::spec::expr::parse_template;

    const VPC: &str = "fake_network.vpc";

    /// A module where `vpc` is created in this apply (its `id` unknown until then), `db` already
    /// exists, and `public` is a `for_each` resource over two zones.
    struct TestScope {
        /// What `scope.resource` knows: empty at plan time, the applied `vpc` at apply time.
        applied: BTreeMap<String, Value>,
    }

    fn span() -> Span {
        Span::new(Arc::from("main.yaml"), 1, 1, 0)
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn secret(s: &str) -> Value {
        Value::Sensitive(Box::new(Value::string(s)))
    }

    fn attr(addr: &str, key: &str) -> Expr {
        Expr::new(
            ExprKind::ResourceAttr {
                addr: addr.to_string(),
                path: vec![PathStep::Key(key.to_string())],
            },
            span(),
        )
    }

    impl Scope for TestScope {
        fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic> {
            let lit = |v: Value| Ok(Expr::literal(v, span.clone()));
            match name {
                "inputs" => lit(map(&[
                    ("cidr", Value::string("10.0.0.0/16")),
                    (
                        "azs",
                        Value::List(vec![Value::string("eu-1a"), Value::string("eu-1b")]),
                    ),
                    ("count", Value::Number(3.0)),
                    ("name", Value::string("web")),
                    ("password", secret("hunter2")),
                    ("nothing", Value::Null),
                ])),
                "db" => lit(map(&[
                    ("id", Value::string("db-123")),
                    ("port", Value::Number(5432.0)),
                ])),
                "vpc" => Ok(Expr::new(
                    ExprKind::Map(vec![
                        (
                            "cidr_block".to_string(),
                            Expr::literal(Value::string("10.0.0.0/16"), span.clone()),
                        ),
                        ("id".to_string(), attr(VPC, "id")),
                    ]),
                    span.clone(),
                )),
                "public" => Ok(Expr::new(
                    ExprKind::Map(vec![
                        (
                            "eu-1b".to_string(),
                            Expr::new(
                                ExprKind::Map(vec![(
                                    "id".to_string(),
                                    attr("fake_subnet.public[\"eu-1b\"]", "id"),
                                )]),
                                span.clone(),
                            ),
                        ),
                        (
                            "eu-1a".to_string(),
                            Expr::literal(map(&[("id", Value::string("subnet-a"))]), span.clone()),
                        ),
                    ]),
                    span.clone(),
                )),
                "later" => lit(Value::Unknown),
                _ => Err(Diagnostic::error_at(format!("unknown name `{name}`"), span)),
            }
        }

        fn resource(&self, addr: &str) -> Option<Value> {
            self.applied.get(addr).cloned()
        }
    }

    fn plan_time() -> TestScope {
        TestScope {
            applied: BTreeMap::new(),
        }
    }

    fn apply_time() -> TestScope {
        TestScope {
            applied: BTreeMap::from([
                (
                    VPC.to_string(),
                    map(&[
                        ("id", Value::string("vpc-42")),
                        ("cidr_block", Value::string("10.0.0.0/16")),
                    ]),
                ),
                (
                    "fake_subnet.public[\"eu-1b\"]".to_string(),
                    map(&[("id", Value::string("subnet-b"))]),
                ),
            ]),
        }
    }

    fn run(text: &str, scope: &TestScope) -> Result<Expr, Diagnostic> {
        let expr = parse_template(text, &span()).unwrap();
        eval(&expr, scope)
    }

    fn value(text: &str) -> Value {
        match run(text, &plan_time()) {
            Ok(Expr {
                kind: ExprKind::Literal(v),
                ..
            }) => v,
            other => panic!("`{text}` did not fold to a value: {other:?}"),
        }
    }

    fn fails(text: &str) -> Diagnostic {
        run(text, &plan_time()).unwrap_err()
    }

    #[test]
    fn inputs_fold_into_literals() {
        assert_eq!(value("${inputs.name}"), Value::string("web"));
        assert_eq!(value("${inputs.azs[1]}"), Value::string("eu-1b"));
        assert_eq!(value("${inputs.azs}").as_list().unwrap().len(), 2);
        assert_eq!(value("${inputs[\"name\"]}"), Value::string("web"));
        assert_eq!(value("${inputs.count * 2 + 1}"), Value::Number(7.0));
        assert_eq!(value("${db.port}"), Value::Number(5432.0));
        assert_eq!(
            value("${inputs.name}-${inputs.count}-${true}"),
            Value::string("web-3-true")
        );
        assert_eq!(
            value("${inputs.count > 2 ? \"big\" : \"small\"}"),
            Value::string("big")
        );
        assert_eq!(
            value("${[inputs.name, 1]}"),
            Value::List(vec![Value::string("web"), Value::Number(1.0)])
        );
        assert_eq!(
            value("${{ n = inputs.name }}"),
            map(&[("n", Value::string("web"))])
        );
        assert_eq!(
            value("${cidrsubnet(inputs.cidr, 8, inputs.count + 1)}"),
            Value::string("10.0.4.0/24")
        );
        assert_eq!(value("${!(1 == 2) && 3 != 4}"), Value::Bool(true));
        assert_eq!(value("${-inputs.count % 2}"), Value::Number(-1.0));
    }

    #[test]
    fn an_unknown_resource_attribute_stays_residual_until_apply() {
        let residual = run("${vpc.id}", &plan_time()).unwrap();
        assert_eq!(residual.kind, attr(VPC, "id").kind);
        // Known parts of the same resource are known now.
        assert_eq!(value("${vpc.cidr_block}"), Value::string("10.0.0.0/16"));

        let tmpl = run("vpc=${vpc.id}!", &plan_time()).unwrap();
        let ExprKind::Template(parts) = &tmpl.kind else {
            panic!("expected a residual template, got {tmpl:?}")
        };
        assert_eq!(parts.len(), 3);

        let call = run("${upper(vpc.id)}", &plan_time()).unwrap();
        assert!(matches!(call.kind, ExprKind::Call(ref name, _) if name == "upper"));

        // At apply time the saved residual finishes evaluating from state.
        let applied = apply_time();
        assert_eq!(
            eval(&residual, &applied).unwrap().as_literal(),
            Some(&Value::string("vpc-42"))
        );
        assert_eq!(
            eval(&tmpl, &applied).unwrap().as_literal(),
            Some(&Value::string("vpc=vpc-42!"))
        );
        assert_eq!(
            eval(&call, &applied).unwrap().as_literal(),
            Some(&Value::string("VPC-42"))
        );
        assert_eq!(
            run("${vpc.id}", &applied).unwrap().as_literal(),
            Some(&Value::string("vpc-42"))
        );
    }

    #[test]
    fn navigating_into_a_residual_extends_its_path() {
        let deeper = run("${vpc.id.tags[0]}", &plan_time()).unwrap();
        assert_eq!(
            deeper.kind,
            ExprKind::ResourceAttr {
                addr: VPC.to_string(),
                path: vec![
                    PathStep::Key("id".into()),
                    PathStep::Key("tags".into()),
                    PathStep::Index(0)
                ],
            }
        );
        let residual_binary = run("${vpc.id == \"x\" || false}", &plan_time()).unwrap();
        assert!(matches!(
            residual_binary.kind,
            ExprKind::Binary(BinaryOp::Or, _, _)
        ));
        let residual_cond = run("${vpc.id != \"\" ? 1 : 2}", &plan_time()).unwrap();
        assert!(matches!(residual_cond.kind, ExprKind::Conditional(..)));
        assert_eq!(
            eval(&residual_cond, &apply_time()).unwrap().as_literal(),
            Some(&Value::Number(1.0))
        );
        // An index known only after apply keeps the traversal for later.
        let by_unknown_index = run("${inputs.azs[vpc.id]}", &plan_time()).unwrap();
        assert!(matches!(by_unknown_index.kind, ExprKind::Traverse(..)));
    }

    #[test]
    fn splat_over_a_for_each_resource_goes_in_key_order() {
        let ids = run("${public[*].id}", &plan_time()).unwrap();
        let ExprKind::List(items) = &ids.kind else {
            panic!("expected a partly known list, got {ids:?}")
        };
        assert_eq!(items[0].as_literal(), Some(&Value::string("subnet-a")));
        assert!(matches!(items[1].kind, ExprKind::ResourceAttr { .. }));
        assert_eq!(value("${length(public[*].id)}"), Value::Number(2.0));
        assert_eq!(
            eval(&ids, &apply_time()).unwrap().as_literal(),
            Some(&Value::List(vec![
                Value::string("subnet-a"),
                Value::string("subnet-b")
            ]))
        );
        assert_eq!(value("${inputs.azs[*]}").as_list().unwrap().len(), 2);
        assert_eq!(value("${inputs.nothing[*]}"), Value::List(vec![]));
        assert_eq!(
            value("${inputs.name[*]}"),
            Value::List(vec![Value::string("web")])
        );
        assert_eq!(value("${public.eu-1a.id}"), Value::string("subnet-a"));
    }

    #[test]
    fn unknown_values_make_results_unknown() {
        assert_eq!(value("${later.id}"), Value::Unknown);
        assert_eq!(value("${later + 1}"), Value::Unknown);
        assert_eq!(value("x-${later}"), Value::Unknown);
        assert_eq!(value("${upper(later)}"), Value::Unknown);
        assert_eq!(value("${length([later, 1])}"), Value::Number(2.0));
        // `&&` decides on a known false left side without looking right.
        assert_eq!(value("${false && later}"), Value::Bool(false));
    }

    #[test]
    fn secrets_stay_sensitive_through_operations() {
        assert_eq!(value("${inputs.password}"), secret("hunter2"));
        assert_eq!(value("pw=${inputs.password}"), secret("pw=hunter2"));
        assert!(value("${inputs.password == \"x\"}").is_sensitive());
        assert!(value("${upper(inputs.password)}").is_sensitive());
        assert!(value("${length(inputs.password)}").is_sensitive());
        // Errors about a secret do not print it.
        let err = fails("${inputs.password + 1}");
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        let err = fails("${tonumber(inputs.password)}");
        assert!(!err.message.contains("hunter2"), "{}", err.message);
    }

    #[test]
    fn mistakes_get_messages_that_say_what_would_be_right() {
        let err = run("${vpc.idd}", &plan_time()).unwrap_err();
        assert_eq!(err.message, "`vpc` has no attribute `idd`");
        assert_eq!(
            err.help.as_deref(),
            Some("did you mean `id`? it has: cidr_block, id")
        );

        let err = fails("${inputs.namee}");
        assert_eq!(err.message, "`inputs` has no attribute `namee`");
        assert!(err.help.unwrap().starts_with("did you mean `name`?"));

        let err = fails("${inputs.azs[5]}");
        assert_eq!(
            err.message,
            "index 5 is out of range: `inputs.azs` has 2 elements"
        );

        assert_eq!(fails("${inputs.count / 0}").message, "division by zero");
        assert_eq!(
            fails("${inputs.count % (2 - 2)}").message,
            "division by zero"
        );
        assert_eq!(
            fails("${inputs.name + 1}").message,
            "cannot add a string and a number; use format() or \"${a}${b}\" to build a string"
        );
        assert_eq!(
            fails("${1 < \"2\"}").message,
            "cannot compare a number and a string; only numbers can be ordered"
        );
        let err = fails("x${inputs.nothing}");
        assert_eq!(
            err.message,
            "the expression is null; a template cannot include null"
        );
        let err = fails("x${inputs.azs}");
        assert_eq!(err.help.as_deref(), Some("use join() or jsonencode()"));
        let err = fails("${joinn(\",\", inputs.azs)}");
        assert_eq!(err.message, "unknown function `joinn`");
        assert_eq!(err.help.as_deref(), Some("did you mean `join`?"));
        assert!(
            fails("${inputs.name ? 1 : 2}")
                .message
                .starts_with("the condition of `? :` must be a bool")
        );
        assert_eq!(fails("${nope.x}").message, "unknown name `nope`");
        assert_eq!(
            fails("${inputs.azs.name}").message,
            "`inputs.azs` is a list, so it has no attribute `name`"
        );
    }

    #[test]
    fn the_division_error_points_at_the_divisor() {
        let expr = parse_template(
            "${inputs.count / 0}",
            &Span::new(Arc::from("m.yaml"), 4, 10, 19),
        )
        .unwrap();
        let err = eval(&expr, &plan_time()).unwrap_err();
        assert_eq!(err.span.map(|s| (s.line, s.col)), Some((4, 27)));
    }

    #[test]
    fn references_are_listed_in_source_order() {
        let expr = parse_template(
            "${cidrsubnet(inputs.cidr, 8, each.index + 1)}-${module.db.endpoint}-${public[*].id}-${m[vpc.id]}",
            &span(),
        )
        .unwrap();
        let refs: Vec<(String, Option<String>)> = references(&expr)
            .into_iter()
            .map(|r| (r.root, r.attrs.first().cloned()))
            .collect();
        let expected = [
            ("inputs", Some("cidr")),
            ("each", Some("index")),
            ("module", Some("db")),
            ("public", None),
            ("m", None),
            ("vpc", Some("id")),
        ];
        assert_eq!(
            refs,
            expected
                .iter()
                .map(|(r, a)| (r.to_string(), a.map(String::from)))
                .collect::<Vec<_>>()
        );
        assert!(references(&Expr::literal(Value::Null, span())).is_empty());
    }
}
