//! Lexer and parser for `${...}` templates and expressions.
//!
//! One scannerless recursive-descent parser over the characters of the scalar serves both the
//! template level (literal text and `${`) and the expression grammar, so a `}` inside a quoted
//! string nested in `${...}` never ends the interpolation early. Positions are character offsets
//! into the scalar, turned into spans with [`Span::sub`] while they lie on the scalar's first line.

use crate::spec::diagnostic::Diagnostic;
use crate::spec::span::Span;

use super::ast::{BinaryOp, Expr, ExprKind, Step, UnaryOp};
use crate::value::Value;

/// Parses a YAML string scalar. Text without `${` is a string literal; a string that is exactly
/// one `${expr}` is that expression (keeping its type: a list stays a list); anything else is a
/// template. `$${` escapes a literal `${`.
pub fn parse_template(text: &str, span: &Span) -> Result<Expr, Diagnostic> {
    if !text.contains("${") {
        return Ok(Expr::literal(Value::string(text), span.clone()));
    }
    let mut p = Parser::new(text, span);
    let mut parts: Vec<Expr> = Vec::new();
    let mut literal = String::new();
    let mut literal_start = 0;
    let mut interpolations = 0;
    while let Some(c) = p.peek() {
        if p.starts_with("$${") {
            literal.push_str("${");
            p.pos += 3;
        } else if p.starts_with("${") {
            if !literal.is_empty() {
                parts.push(Expr::literal(
                    Value::String(std::mem::take(&mut literal)),
                    p.span(literal_start, p.pos),
                ));
            }
            parts.push(p.interpolation()?);
            interpolations += 1;
            literal_start = p.pos;
        } else {
            literal.push(c);
            p.pos += 1;
        }
    }
    if interpolations == 0 {
        // Only escaped `$${` and text: a plain string after all.
        return Ok(Expr::literal(Value::String(literal), span.clone()));
    }
    if !literal.is_empty() {
        parts.push(Expr::literal(
            Value::String(literal),
            p.span(literal_start, p.pos),
        ));
    }
    if parts.len() == 1
        && let Some(only) = parts.pop()
    {
        return Ok(only);
    }
    Ok(Expr::new(ExprKind::Template(parts), span.clone()))
}

/// Parses the inside of one `${...}`.
pub fn parse_expr(text: &str, span: &Span) -> Result<Expr, Diagnostic> {
    let mut p = Parser::new(text, span);
    let expr = p.expr()?;
    p.skip_ws();
    if let Some(c) = p.peek() {
        let what = p.describe_here();
        let _ = c;
        return Err(p.error_at(
            p.pos,
            p.token_len(),
            format!("unexpected {what} after the expression"),
        )
        .with_help("an expression ends here; join values with an operator like `+` or `&&`, or use a function call"));
    }
    Ok(expr)
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    base: &'a Span,
    /// Offset of the first newline: positions past it get the whole scalar's span, because a
    /// span covers one line only.
    first_newline: usize,
    /// Nesting depth, bounded so a hostile `((((...` cannot overflow the stack.
    depth: usize,
}

// Deep enough for any real spec; shallow enough that parsing, evaluating and dropping the tree
// stay well within a 2 MiB thread stack in debug builds.
use crate::limits::MAX_EXPR_DEPTH as MAX_DEPTH;

impl<'a> Parser<'a> {
    fn new(text: &str, base: &'a Span) -> Parser<'a> {
        let chars: Vec<char> = text.chars().collect();
        let first_newline = chars.iter().position(|&c| c == '\n').unwrap_or(chars.len());
        Parser {
            chars,
            pos: 0,
            base,
            first_newline,
            depth: 0,
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        if start > self.first_newline || end > self.first_newline + 1 {
            self.base.clone()
        } else {
            self.base
                .sub(start as u32, end.saturating_sub(start) as u32)
        }
    }

    fn error_at(&self, start: usize, len: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error_at(message, &self.span(start, start + len))
    }

    /// The column a position is shown at, for "opened at col N" notes.
    fn col(&self, pos: usize) -> u32 {
        self.span(pos, pos + 1).col
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        (self.pos..)
            .zip(s.chars())
            .all(|(i, c)| self.chars.get(i) == Some(&c))
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += 1;
            } else if c == '#' || (c == '/' && self.peek_at(1) == Some('/')) {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Skips whitespace, then consumes `s` when it comes next.
    fn eat(&mut self, s: &str) -> bool {
        let before = self.pos;
        self.skip_ws();
        if self.starts_with(s) {
            self.pos += s.chars().count();
            true
        } else {
            // Whitespace is left in place: a newline may separate object entries.
            self.pos = before;
            false
        }
    }

    /// Length of the token at the cursor, for underlining.
    fn token_len(&self) -> usize {
        match self.peek() {
            None => 0,
            Some(c) if is_ident_start(c) || c.is_ascii_digit() => {
                let mut i = self.pos;
                while self
                    .chars
                    .get(i)
                    .is_some_and(|&c| is_ident_continue(c) || c == '.')
                {
                    i += 1;
                }
                (i - self.pos).max(1)
            }
            Some(_) => 1,
        }
    }

    /// What the cursor is at, for "expected X, found Y".
    fn describe_here(&self) -> String {
        match self.peek() {
            None => "end of the expression".to_string(),
            Some(_) => {
                let token: String = self.chars[self.pos..self.pos + self.token_len()]
                    .iter()
                    .collect();
                format!("`{token}`")
            }
        }
    }

    fn expected(&self, what: &str) -> Diagnostic {
        self.error_at(
            self.pos,
            self.token_len(),
            format!("expected {what}, found {}", self.describe_here()),
        )
    }

    /// `${ expr }` at the cursor (which is at `$`).
    fn interpolation(&mut self) -> Result<Expr, Diagnostic> {
        let open = self.pos;
        self.pos += 2;
        self.skip_ws();
        if self.peek().is_none() {
            return Err(self
                .error_at(open, 2, "unterminated `${`: add `}`")
                .with_help("write the expression inside, like `${inputs.name}`"));
        }
        if self.peek() == Some('}') {
            return Err(self.error_at(
                open,
                self.pos + 1 - open,
                "empty `${}`: write an expression inside, like `${inputs.name}`",
            ));
        }
        let expr = self.expr()?;
        self.skip_ws();
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                Ok(expr)
            }
            None => Err(self.error_at(open, 2, "unterminated `${`: add `}`")),
            Some(_) => Err(self.expected(&format!(
                "`}}` to close the `${{` opened at col {}",
                self.col(open)
            ))),
        }
    }

    fn enter(&mut self) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self
                .error_at(
                    self.pos,
                    1,
                    format!(
                        "expression nested too deeply: more than {MAX_DEPTH} levels of parentheses, calls, lists or indexes"
                    ),
                )
                .with_help("split it: compute the inner parts in `locals:` and refer to them"));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, Diagnostic> {
        self.enter()?;
        let result = self.conditional();
        self.depth -= 1;
        result
    }

    fn conditional(&mut self) -> Result<Expr, Diagnostic> {
        let cond = self.binary(0)?;
        if !self.eat("?") {
            return Ok(cond);
        }
        let question = self.pos - 1;
        let yes = self.expr()?;
        if !self.eat(":") {
            return Err(self.expected(&format!(
                "`:` and the value for false of the `?` at col {}",
                self.col(question)
            )));
        }
        let no = self.expr()?;
        let span = self.join_spans(&cond.span, &no.span);
        Ok(Expr::new(
            ExprKind::Conditional(Box::new(cond), Box::new(yes), Box::new(no)),
            span,
        ))
    }

    /// A span from the start of `a` to the end of `b` when both lie on the first line.
    fn join_spans(&self, a: &Span, b: &Span) -> Span {
        if a.line == b.line && b.col + b.len >= a.col && a != self.base && b != self.base {
            Span {
                len: b.col + b.len - a.col,
                ..a.clone()
            }
        } else {
            self.base.clone()
        }
    }

    /// The binary operator at the cursor with its precedence level (0 binds loosest).
    fn peek_binary(&mut self) -> Option<(BinaryOp, usize, usize)> {
        let before = self.pos;
        self.skip_ws();
        let found = self.binary_here();
        if found.is_none() {
            self.pos = before;
        }
        found
    }

    fn binary_here(&self) -> Option<(BinaryOp, usize, usize)> {
        let c = self.peek()?;
        let next = self.peek_at(1);
        let op = match (c, next) {
            ('|', Some('|')) => (BinaryOp::Or, 0, 2),
            ('&', Some('&')) => (BinaryOp::And, 1, 2),
            ('=', Some('=')) => (BinaryOp::Eq, 2, 2),
            ('!', Some('=')) => (BinaryOp::Ne, 2, 2),
            ('<', Some('=')) => (BinaryOp::Le, 3, 2),
            ('>', Some('=')) => (BinaryOp::Ge, 3, 2),
            ('<', _) => (BinaryOp::Lt, 3, 1),
            ('>', _) => (BinaryOp::Gt, 3, 1),
            ('+', _) => (BinaryOp::Add, 4, 1),
            ('-', _) => (BinaryOp::Sub, 4, 1),
            ('*', _) => (BinaryOp::Mul, 5, 1),
            ('/', _) => (BinaryOp::Div, 5, 1),
            ('%', _) => (BinaryOp::Mod, 5, 1),
            _ => return None,
        };
        Some(op)
    }

    /// Precedence climbing: levels 0..=5 from `||` up to `* / %`.
    fn binary(&mut self, level: usize) -> Result<Expr, Diagnostic> {
        if level > 5 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        // Each chained operator nests the tree one level deeper (`a + b + c` is `(a + b) + c`),
        // so it counts toward the depth limit like a parenthesis.
        let mut chained = 0;
        let result = loop {
            let Some((op, op_level, len)) = self.peek_binary() else {
                break Ok(left);
            };
            if op_level != level {
                break Ok(left);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            chained += 1;
            self.pos += len;
            let right = match self.binary(level + 1) {
                Ok(right) => right,
                Err(e) => break Err(e),
            };
            let span = self.join_spans(&left.span, &right.span);
            left = Expr::new(ExprKind::Binary(op, Box::new(left), Box::new(right)), span);
        };
        self.depth -= chained;
        result
    }

    fn unary(&mut self) -> Result<Expr, Diagnostic> {
        self.skip_ws();
        let start = self.pos;
        let op = match self.peek() {
            Some('!') => UnaryOp::Not,
            Some('-') => UnaryOp::Neg,
            _ => return self.postfix(),
        };
        self.pos += 1;
        self.enter()?;
        let operand = self.unary();
        self.depth -= 1;
        let operand = operand?;
        let span = self.join_spans(&self.span(start, start + 1), &operand.span);
        Ok(Expr::new(ExprKind::Unary(op, Box::new(operand)), span))
    }

    fn postfix(&mut self) -> Result<Expr, Diagnostic> {
        self.skip_ws();
        let start = self.pos;
        let (primary, root) = self.primary()?;
        let mut steps = Vec::new();
        loop {
            // A traversal continues only directly after the value (HCL allows no newline, and
            // a space before `[` would make `[a] [b]` ambiguous; we accept spaces for `.`).
            if self.peek() == Some('[') {
                steps.push(self.bracket_step()?);
            } else if self.peek() == Some('.') && self.peek_at(1) != Some('.') {
                self.pos += 1;
                steps.push(self.dot_step()?);
            } else {
                break;
            }
        }
        let span = self.span(start, self.pos);
        Ok(match (root, steps.is_empty()) {
            (Some(root), _) => Expr::new(ExprKind::Ref { root, steps }, span),
            (None, true) => primary,
            (None, false) => Expr::new(ExprKind::Traverse(Box::new(primary), steps), span),
        })
    }

    fn dot_step(&mut self) -> Result<Step, Diagnostic> {
        match self.peek() {
            Some('*') => {
                self.pos += 1;
                Ok(Step::Splat)
            }
            Some(c) if c.is_ascii_digit() => {
                // Legacy `list.0` index.
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits: String = self.chars[start..self.pos].iter().collect();
                let n: f64 = digits.parse().unwrap_or(f64::MAX);
                Ok(Step::Index(Expr::literal(
                    Value::Number(n),
                    self.span(start, self.pos),
                )))
            }
            Some(c) if is_ident_start(c) => Ok(Step::Attr(self.ident())),
            _ => Err(self.expected("an attribute name after `.`")),
        }
    }

    fn bracket_step(&mut self) -> Result<Step, Diagnostic> {
        let open = self.pos;
        self.pos += 1;
        if self.eat("*") {
            if !self.eat("]") {
                return Err(self.expected("`]` to close the splat `[*]`"));
            }
            return Ok(Step::Splat);
        }
        let index = self.expr()?;
        if !self.eat("]") {
            return Err(self.expected(&format!(
                "`]` to close the index opened at col {}",
                self.col(open)
            )));
        }
        Ok(Step::Index(index))
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(is_ident_continue) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// A primary expression, and the root name when it is a bare identifier (a reference).
    fn primary(&mut self) -> Result<(Expr, Option<String>), Diagnostic> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.expected("an expression"));
        };
        if c.is_ascii_digit() {
            return Ok((self.number()?, None));
        }
        if c == '"' {
            return Ok((self.string()?, None));
        }
        if is_ident_start(c) {
            let name = self.ident();
            let span = self.span(start, self.pos);
            match name.as_str() {
                "true" => return Ok((Expr::literal(Value::Bool(true), span), None)),
                "false" => return Ok((Expr::literal(Value::Bool(false), span), None)),
                "null" => return Ok((Expr::literal(Value::Null, span), None)),
                _ => {}
            }
            let after_name = self.pos;
            self.skip_ws();
            if self.peek() == Some('(') {
                return Ok((self.call(name, start)?, None));
            }
            self.pos = after_name;
            return Ok((Expr::literal(Value::Null, span), Some(name)));
        }
        match c {
            '(' => {
                self.pos += 1;
                let inner = self.expr()?;
                if !self.eat(")") {
                    return Err(self.expected(&format!(
                        "`)` to close the `(` opened at col {}",
                        self.col(start)
                    )));
                }
                Ok((inner, None))
            }
            '[' => Ok((self.list(start)?, None)),
            '{' => Ok((self.object(start)?, None)),
            _ => Err(self.expected("an expression")),
        }
    }

    fn number(&mut self) -> Result<Expr, Diagnostic> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            } else {
                self.pos = save;
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let span = self.span(start, self.pos);
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Expr::literal(Value::Number(n), span)),
            _ => Err(Diagnostic::error_at(
                format!("`{text}` is not a valid number"),
                &span,
            )),
        }
    }

    /// A quoted string, with escapes and `${...}` interpolation.
    fn string(&mut self) -> Result<Expr, Diagnostic> {
        let open = self.pos;
        self.pos += 1;
        let mut parts: Vec<Expr> = Vec::new();
        let mut literal = String::new();
        let mut literal_start = self.pos;
        loop {
            let Some(c) = self.peek() else {
                return Err(self
                    .error_at(open, 1, "unterminated string: add a closing `\"`")
                    .with_help("a string starts and ends with `\"` on the same line"));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\n' => {
                    return Err(self.error_at(
                        open,
                        1,
                        "unterminated string: add a closing `\"` before the end of the line",
                    ));
                }
                '\\' => {
                    let escape_at = self.pos;
                    self.pos += 1;
                    let simple = match self.peek() {
                        Some('n') => Some('\n'),
                        Some('t') => Some('\t'),
                        Some('r') => Some('\r'),
                        Some('"') => Some('"'),
                        Some('\\') => Some('\\'),
                        Some('u') => None,
                        _ => {
                            return Err(self.error_at(
                                escape_at,
                                2,
                                "unknown escape sequence: use `\\n`, `\\t`, `\\r`, `\\\"`, `\\\\` or `\\uNNNN`",
                            ));
                        }
                    };
                    self.pos += 1;
                    let escaped = match simple {
                        Some(c) => c,
                        None => self.unicode_escape(escape_at)?,
                    };
                    literal.push(escaped);
                }
                '$' if self.starts_with("$${") => {
                    literal.push_str("${");
                    self.pos += 3;
                }
                '$' if self.starts_with("${") => {
                    if !literal.is_empty() {
                        parts.push(Expr::literal(
                            Value::String(std::mem::take(&mut literal)),
                            self.span(literal_start, self.pos),
                        ));
                    }
                    self.enter()?;
                    let part = self.interpolation();
                    self.depth -= 1;
                    parts.push(part?);
                    literal_start = self.pos;
                }
                _ => {
                    literal.push(c);
                    self.pos += 1;
                }
            }
        }
        let span = self.span(open, self.pos);
        if parts.is_empty() {
            return Ok(Expr::literal(Value::String(literal), span));
        }
        if !literal.is_empty() {
            parts.push(Expr::literal(
                Value::String(literal),
                self.span(literal_start, self.pos - 1),
            ));
        }
        Ok(Expr::new(ExprKind::Template(parts), span))
    }

    /// The four hex digits after `\u`.
    fn unicode_escape(&mut self, escape_at: usize) -> Result<char, Diagnostic> {
        let digits: String = self.chars.iter().skip(self.pos).take(4).collect();
        let code = (digits.len() == 4)
            .then(|| u32::from_str_radix(&digits, 16).ok())
            .flatten()
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                self.pos += 4;
                Ok(c)
            }
            None => Err(self.error_at(
                escape_at,
                2 + digits.len(),
                "invalid `\\u` escape: expected four hex digits naming a character, like `\\u00e9`",
            )),
        }
    }

    fn call(&mut self, name: String, start: usize) -> Result<Expr, Diagnostic> {
        // Cursor is at `(`.
        let open = self.pos;
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            if self.eat(")") {
                break;
            }
            if self.peek().is_none() {
                return Err(self.unclosed_call(&name, open));
            }
            args.push(self.expr()?);
            if self.eat(",") {
                continue;
            }
            if self.eat(")") {
                break;
            }
            if self.starts_with("...") {
                return Err(self.error_at(
                    self.pos,
                    3,
                    "argument expansion with `...` is not supported: pass the arguments one by one",
                ));
            }
            return Err(self.unclosed_call(&name, open));
        }
        Ok(Expr::new(
            ExprKind::Call(name, args),
            self.span(start, self.pos),
        ))
    }

    fn unclosed_call(&self, name: &str, open: usize) -> Diagnostic {
        self.expected(&format!(
            "`)` to close the call to `{name}` opened at col {}",
            self.col(open)
        ))
        .with_help("separate arguments with `,`")
    }

    fn list(&mut self, start: usize) -> Result<Expr, Diagnostic> {
        self.pos += 1;
        self.skip_ws();
        if self.starts_with("for") && !self.peek_at(3).is_some_and(is_ident_continue) {
            return Err(self.error_at(
                self.pos,
                3,
                "`for` expressions are not supported: use `for_each` on the resource instead",
            ));
        }
        let mut items = Vec::new();
        loop {
            if self.eat("]") {
                break;
            }
            items.push(self.expr()?);
            if self.eat(",") {
                continue;
            }
            if self.eat("]") {
                break;
            }
            return Err(self.expected(&format!(
                "`,` or `]` to close the list opened at col {}",
                self.col(start)
            )));
        }
        Ok(Expr::new(ExprKind::List(items), self.span(start, self.pos)))
    }

    fn object(&mut self, start: usize) -> Result<Expr, Diagnostic> {
        self.pos += 1;
        let mut entries: Vec<(String, Expr)> = Vec::new();
        loop {
            if self.eat("}") {
                break;
            }
            self.skip_ws();
            let key_start = self.pos;
            let key = match self.peek() {
                Some(c) if is_ident_start(c) => self.ident(),
                Some('"') => {
                    let key = self.string()?;
                    match key.kind {
                        ExprKind::Literal(Value::String(s)) => s,
                        _ => {
                            return Err(Diagnostic::error_at(
                                "an object key cannot contain `${...}`: write the key as plain text",
                                &key.span,
                            ));
                        }
                    }
                }
                Some(c) if c.is_ascii_digit() => {
                    while self
                        .peek()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
                    {
                        self.pos += 1;
                    }
                    self.chars[key_start..self.pos].iter().collect()
                }
                _ => {
                    return Err(self.expected(&format!(
                        "an object key or `}}` to close the object opened at col {}",
                        self.col(start)
                    )));
                }
            };
            let key_span = self.span(key_start, self.pos);
            if !(self.eat("=") || self.eat(":")) {
                return Err(self.expected(&format!("`=` or `:` after the key `{key}`")));
            }
            let value = self.expr()?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(Diagnostic::error_at(
                    format!("duplicate key `{key}` in object"),
                    &key_span,
                )
                .with_help("each key may appear once; remove or rename one"));
            }
            entries.push((key, value));
            // Entries are separated by commas or newlines.
            let before = self.pos;
            self.skip_ws();
            let newline = self.chars[before..self.pos].contains(&'\n');
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                break;
            }
            if newline {
                continue;
            }
            return Err(self.expected(&format!(
                "`,` or `}}` to close the object opened at col {}",
                self.col(start)
            )));
        }
        Ok(Expr::new(
            ExprKind::Map(entries),
            self.span(start, self.pos),
        ))
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn at(col: u32) -> Span {
        Span::new(Arc::from("main.yaml"), 3, col, 0)
    }

    const NESTED: &str =
        "expression nested too deeply: more than 48 levels of parentheses, calls, lists or indexes";

    fn expr(text: &str) -> Expr {
        parse_expr(text, &at(1)).unwrap()
    }

    fn error(text: &str) -> Diagnostic {
        parse_template(text, &at(1)).unwrap_err()
    }

    /// A compact rendering of the tree for readable assertions.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Literal(v) => v.to_string(),
            ExprKind::Ref { root, steps } => format!("{root}{}", show_steps(steps)),
            ExprKind::Traverse(base, steps) => format!("({}){}", show(base), show_steps(steps)),
            ExprKind::ResourceAttr { addr, .. } => format!("<{addr}>"),
            ExprKind::Template(parts) => {
                format!(
                    "tmpl[{}]",
                    parts.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
            ExprKind::List(items) => {
                format!(
                    "[{}]",
                    items.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
            ExprKind::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}={}", show(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ExprKind::Unary(op, x) => format!("({op:?} {})", show(x)),
            ExprKind::Binary(op, l, r) => format!("({op:?} {} {})", show(l), show(r)),
            ExprKind::Conditional(c, a, b) => format!("({} ? {} : {})", show(c), show(a), show(b)),
            ExprKind::Call(name, args) => {
                format!(
                    "{name}({})",
                    args.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    fn show_steps(steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Attr(a) => format!(".{a}"),
                Step::Index(i) => format!("[{}]", show(i)),
                Step::Splat => "[*]".to_string(),
            })
            .collect()
    }

    #[test]
    fn operators_bind_like_terraform() {
        assert_eq!(show(&expr("1 + 2 * 3")), "(Add 1 (Mul 2 3))");
        assert_eq!(show(&expr("a || b && c == d")), "(Or a (And b (Eq c d)))");
        assert_eq!(show(&expr("x < 3 == y >= 4")), "(Eq (Lt x 3) (Ge y 4))");
        assert_eq!(show(&expr("10 - 4 - 3")), "(Sub (Sub 10 4) 3)");
        assert_eq!(show(&expr("-a * !b")), "(Mul (Neg a) (Not b))");
        assert_eq!(show(&expr("(1 + 2) * 3")), "(Mul (Add 1 2) 3)");
        assert_eq!(show(&expr("a ? b : c ? d : e")), "(a ? b : (c ? d : e))");
        assert_eq!(show(&expr("n % 2 == 0 && ok")), "(And (Eq (Mod n 2) 0) ok)");
    }

    #[test]
    fn references_and_traversals() {
        assert_eq!(show(&expr("vpc.id")), "vpc.id");
        assert_eq!(show(&expr("public[*].id")), "public[*].id");
        assert_eq!(show(&expr("public.*.id")), "public[*].id");
        assert_eq!(show(&expr("subnets[0].cidr")), "subnets[0].cidr");
        assert_eq!(show(&expr("list.0")), "list[0]");
        assert_eq!(show(&expr("tags[\"Name\"]")), "tags[\"Name\"]");
        assert_eq!(show(&expr("module.db.endpoint")), "module.db.endpoint");
        assert_eq!(show(&expr("each.value")), "each.value");
        // HCL allows `-` inside names.
        assert_eq!(show(&expr("inputs.my-name")), "inputs.my-name");
        assert_eq!(show(&expr("merge(a, b).x")), "(merge(a, b)).x");
        assert_eq!(show(&expr("[1, 2][0]")), "([1, 2])[0]");
        assert!(matches!(expr("vpc").kind, ExprKind::Ref { ref steps, .. } if steps.is_empty()));
    }

    #[test]
    fn literals_calls_lists_and_objects() {
        assert_eq!(show(&expr("3.5")), "3.5");
        assert_eq!(show(&expr("1e3")), "1000");
        assert_eq!(show(&expr("true")), "true");
        assert_eq!(show(&expr("null")), "null");
        assert_eq!(show(&expr("join(\",\", [a, b,],)")), "join(\",\", [a, b])");
        assert_eq!(show(&expr("f()")), "f()");
        assert_eq!(
            show(&expr("{ Name = x, \"team-a\" = 1, env: \"prod\" }")),
            "{Name=x, team-a=1, env=\"prod\"}"
        );
        assert_eq!(show(&expr("{\n  a = 1\n  b = 2\n}")), "{a=1, b=2}");
        assert_eq!(show(&expr("[]")), "[]");
    }

    #[test]
    fn quoted_strings_unescape_and_interpolate() {
        assert_eq!(
            expr(r#""a\n\t\"b\"\\ \u00e9""#).as_literal(),
            Some(&Value::string("a\n\t\"b\"\\ é"))
        );
        assert_eq!(show(&expr(r#""${x}-${y}""#)), "tmpl[x, \"-\", y]");
        assert_eq!(show(&expr(r#""a}b""#)), "\"a}b\"");
        assert_eq!(show(&expr(r#""$${x}""#)), "\"${x}\"");
        // A `}` in a string inside `${}` does not end the interpolation.
        assert_eq!(
            show(&parse_template(r#"x${join("}", l)}y"#, &at(1)).unwrap()),
            "tmpl[\"x\", join(\"}\", l), \"y\"]"
        );
    }

    #[test]
    fn templates_keep_types_when_they_are_one_expression() {
        let whole = parse_template("${inputs.azs}", &at(1)).unwrap();
        assert_eq!(show(&whole), "inputs.azs");
        let plain = parse_template("just text", &at(1)).unwrap();
        assert_eq!(plain.as_literal(), Some(&Value::string("just text")));
        let escaped = parse_template("cost: $${price}", &at(1)).unwrap();
        assert_eq!(escaped.as_literal(), Some(&Value::string("cost: ${price}")));
        let mixed = parse_template("web-${count.index}", &at(1)).unwrap();
        assert_eq!(show(&mixed), "tmpl[\"web-\", count.index]");
        let number = parse_template("port ${80}", &at(1)).unwrap();
        assert_eq!(show(&number), "tmpl[\"port \", 80]");
    }

    #[test]
    fn sub_expressions_point_at_their_own_columns() {
        // The scalar starts at column 10: `web-${vpc.id}` has `vpc.id` at column 16.
        let t = parse_template("web-${vpc.id}", &at(10)).unwrap();
        let ExprKind::Template(parts) = &t.kind else {
            panic!("expected a template, got {t:?}")
        };
        assert_eq!((parts[0].span.col, parts[0].span.len), (10, 4));
        assert_eq!((parts[1].span.col, parts[1].span.len), (16, 6));
        let call = parse_template("${cidrsubnet(inputs.cidr, 8, 1)}", &at(5)).unwrap();
        let ExprKind::Call(_, args) = &call.kind else {
            panic!("expected a call, got {call:?}")
        };
        assert_eq!((call.span.col, call.span.len), (7, 29));
        assert_eq!((args[0].span.col, args[0].span.len), (18, 11));
        assert_eq!((args[2].span.col, args[2].span.len), (34, 1));
        // After a newline, the scalar's own span is the best we can do.
        let multi = parse_template("a\n${x}", &at(5)).unwrap();
        let ExprKind::Template(parts) = &multi.kind else {
            panic!("expected a template")
        };
        assert_eq!(parts[1].span, at(5));
    }

    #[test]
    fn unterminated_interpolation_says_what_to_add() {
        let e = error("name-${inputs.name");
        assert_eq!(e.message, "unterminated `${`: add `}`");
        assert_eq!(e.span.unwrap().col, 6);
        assert_eq!(error("${").message, "unterminated `${`: add `}`");
    }

    #[test]
    fn unexpected_tokens_say_what_was_expected() {
        assert_eq!(
            error("${1 + }").message,
            "expected an expression, found `}`"
        );
        assert_eq!(
            error("${a b}").message,
            "expected `}` to close the `${` opened at col 1, found `b`"
        );
        let e = parse_expr("a b", &at(1)).unwrap_err();
        assert_eq!(e.message, "unexpected `b` after the expression");
        assert_eq!(e.span.unwrap().col, 3);
        assert_eq!(
            error("${\"abc}").message,
            "unterminated string: add a closing `\"`"
        );
        assert_eq!(
            error("${x.}").message,
            "expected an attribute name after `.`, found `}`"
        );
        assert_eq!(
            error("${{a = 1, a = 2}}").message,
            "duplicate key `a` in object"
        );
        assert!(
            error("${[for x in y: x]}")
                .message
                .starts_with("`for` expressions are not supported")
        );
    }

    #[test]
    fn an_unclosed_call_names_the_function_and_where_it_opened() {
        let e = parse_template("${join(\",\", inputs.azs}", &at(1)).unwrap_err();
        assert_eq!(
            e.message,
            "expected `)` to close the call to `join` opened at col 7, found `}`"
        );
        assert_eq!(e.span.unwrap().col, 23);
        let e = parse_expr("join(\",\", x", &at(1)).unwrap_err();
        assert_eq!(
            e.message,
            "expected `)` to close the call to `join` opened at col 5, found end of the expression"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("${{{}1{}}}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(error(&deep).message, NESTED);
        let long = format!("${{1{}}}", " + 1".repeat(10_000));
        assert_eq!(error(&long).message, NESTED);
        // Just under the limit parses fine.
        let ok = format!(
            "${{{}1{}}}",
            "(".repeat(MAX_DEPTH - 2),
            ")".repeat(MAX_DEPTH - 2)
        );
        assert!(parse_template(&ok, &at(1)).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn parse_template_never_panics(text in "\\PC{0,60}") {
            let _ = parse_template(&text, &at(1));
        }

        #[test]
        fn parse_template_never_panics_on_expression_soup(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "${", "}", "$${", "\"", "\\", "(", ")", "[", "]", "{", "}", ",", ".", "*",
                    "a", "b.c", "1", "2.5", "+", "-", "!", "==", "?", ":", "=", "&&", "||",
                    "join(", "[*]", "\n", " ", "\\u12", "#", "%",
                ]),
                0..40,
            )
        ) {
            let text: String = parts.concat();
            let _ = parse_template(&text, &at(1));
        }
    }
}
