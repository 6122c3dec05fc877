//! The canonical formatter behind `lcc fmt`.
//!
//! The layout, for a clause:
//!
//! ```text
//! a(idle, PeerID) ::
//!     null <- getPeerState(Status) then
//!     (
//!         a(overloaded(Status), PeerID) <- isOverLoaded()
//!         or
//!         a(idle, PeerID)
//!     )
//! ```
//!
//! - the head `a(Role, Id) ::` on its own line, one event per line, indented by 4 spaces;
//!   `then` ends the line of its left operand; `or` and `par` stand on their own line between
//!   the alternatives, at the alternatives' indentation;
//! - chains of one operator print flat (the operators are associative); an operand that is a
//!   different operator is always parenthesised, so the output never mixes operators without
//!   parentheses (LCC.md section 3 calls that an ambiguity). A group prints as `(` on its own
//!   line, its body indented 4 more, and `)` at the outer indentation (followed by ` then` when
//!   it is the left operand of `then`); xlcc braces print as parentheses;
//! - guards stay on the line of their event; a top-level disjunction in a guard is
//!   parenthesised (the bare word `or` there is the definition's choice operator), and
//!   arithmetic gets the parentheses that precedence and the tree's shape need, no more;
//! - role declarations and annotations print on one line; items are separated by one blank
//!   line, except that role declarations, annotations (and OKeilidh facts) that were
//!   consecutive in the source stay grouped; every item keeps its `.` terminator if it had
//!   one; dialect items (WebLCC header, OKeilidh facts) are copied verbatim;
//! - every comment is kept, in order: a comment that followed code on its line stays at the
//!   end of an output line (a line comment always ends its line), any other comment gets its
//!   own line at the indentation of what follows it. Blank lines between items and top-level
//!   comments are kept (collapsed to one); blank lines inside a clause are not.
//!
//! Formatting never changes meaning: `sexpr::model` of the output equals that of the input.
//! It is idempotent, and it refuses files with syntax errors.

use crate::ast::*;
use crate::diagnostic::{Diagnostic, TextEdit};
use crate::lexer::{Token, tokenize};

/// Spaces per indentation level.
const INDENT: usize = 4;

/// An atom as it must be written: quoted when it is not a plain lower-case word or is a keyword.
pub fn atom_text(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(name, "null" | "then" | "or" | "par" | "and" | "not" | "is" | "mod");
    if plain {
        name.to_string()
    } else {
        let mut out = String::with_capacity(name.len() + 2);
        out.push('\'');
        for ch in name.chars() {
            match ch {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    }
}

/// `\r\n` becomes `\n`, and a lone `\r` a space, in one pass so that formatting again changes
/// nothing (`\r\r\n` is ` \n`). A lone `\r` is not a line break for the lexer (a `//` comment
/// runs on past it), so it must not become one here either. Only for block comments and
/// verbatim items.
fn normalize_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', " ")
}

/// Formats a whole source file in the canonical layout. Refuses (returns the error
/// diagnostics) when the source has syntax errors, because a tree with error nodes cannot be
/// printed without losing text.
pub fn format_source(source: &str) -> Result<String, Vec<Diagnostic>> {
    let (model, diags) = crate::parse(source);
    let errors: Vec<_> = diags.into_iter().filter(|d| d.is_error()).collect();
    if errors.is_empty() { Ok(format_model(source, &model)) } else { Err(errors) }
}

/// Prints `model`, parsed from `source`, in the canonical layout. The source supplies the
/// comments' placement, blank lines, and the text of items printed verbatim. Total: a model
/// with error nodes is printed too (the error nodes verbatim), but only a model without
/// syntax errors is guaranteed to keep its meaning; [`format_source`] checks that.
pub fn format_model(source: &str, model: &Model) -> String {
    let mut printer = Printer::new(source, &model.comments);
    printer.model(&model.items);
    printer.finish()
}

/// Re-formats the whole items that overlap the byte range `start..end` (for an empty range,
/// the items that contain or touch `start`), as the language server's range formatting needs.
/// Returns at most one edit, none when those items are already formatted. Refuses files with
/// syntax errors, like [`format_source`].
pub fn format_range(source: &str, start: u32, end: u32) -> Result<Vec<TextEdit>, Vec<Diagnostic>> {
    let (model, diags) = crate::parse(source);
    let errors: Vec<_> = diags.into_iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let (start, end) = (start.min(end), start.max(end));
    let overlaps = |span: Span| {
        if start == end {
            span.start <= start && start <= span.end
        } else {
            span.start < end && start < span.end
        }
    };
    let first = model.items.iter().position(|item| overlaps(item.span));
    let last = model.items.iter().rposition(|item| overlaps(item.span));
    let (Some(first), Some(last)) = (first, last) else { return Ok(Vec::new()) };

    let mut printer = Printer::new(source, &model.comments);
    printer.model(&model.items);
    let (Some(from), Some(to)) = (printer.regions.get(first), printer.regions.get(last)) else {
        return Ok(Vec::new());
    };
    let mut replacement = printer.out.get(from.out_start..to.out_end).unwrap_or("").to_string();
    let mut src_start = from.src_start as usize;
    let src_end = (to.src_end as usize).min(source.len());
    // Take the indentation before the first item too; if code or a comment precedes it on its
    // line, the formatted item starts a line of its own.
    let before = source.get(..src_start).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    if before.get(line_start..).is_some_and(|s| s.chars().all(|c| c == ' ' || c == '\t')) {
        src_start = line_start;
    } else {
        src_start = before.trim_end_matches([' ', '\t']).len();
        replacement.insert(0, '\n');
    }
    // A region that ends with a line comment ends with its line break: keep it only if the
    // source does not already have one there.
    if replacement.ends_with('\n') {
        let after = source.get(src_end..).unwrap_or("");
        if after.starts_with('\n') || after.starts_with("\r\n") {
            replacement.pop();
        }
    }
    if source.get(src_start..src_end) == Some(replacement.as_str()) {
        return Ok(Vec::new());
    }
    Ok(vec![TextEdit { span: Span::new(src_start, src_end), replacement }])
}

/// Where one item went: its output text `out_start..out_end` replaces the source text
/// `src_start..src_end` (which includes the comments printed with the item).
#[derive(Clone, Copy, Debug)]
struct Region {
    out_start: usize,
    out_end: usize,
    src_start: u32,
    src_end: u32,
}

struct Printer<'a> {
    src: &'a str,
    comments: &'a [Comment],
    /// The first comment not printed yet.
    next: usize,
    out: String,
    /// A line is open: text was written after the last `\n`.
    open: bool,
    /// The open line holds more than indentation.
    code: bool,
    regions: Vec<Region>,
}

impl<'a> Printer<'a> {
    fn new(src: &'a str, comments: &'a [Comment]) -> Printer<'a> {
        Printer {
            src,
            comments,
            next: 0,
            out: String::with_capacity(src.len() + src.len() / 4),
            open: false,
            code: false,
            regions: Vec::new(),
        }
    }

    fn finish(mut self) -> String {
        self.end_line();
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
        self.out
    }

    // ---- lines ---------------------------------------------------------------------------

    fn end_line(&mut self) {
        if self.open {
            self.out.push('\n');
            self.open = false;
            self.code = false;
        }
    }

    fn start_line(&mut self, indent: usize) {
        self.end_line();
        self.out.extend(std::iter::repeat_n(' ', indent));
        self.open = true;
        self.code = false;
    }

    fn push(&mut self, text: &str) {
        if !self.open {
            self.start_line(0);
        }
        self.out.push_str(text);
        if !text.is_empty() {
            self.code = true;
        }
    }

    /// Ends the open line and leaves one blank line (never at the start of the file).
    fn blank_line(&mut self) {
        self.end_line();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn text(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    // ---- comments --------------------------------------------------------------------------

    /// Whether code (or another comment) precedes the comment on its source line.
    fn is_end_of_line(&self, c: &Comment) -> bool {
        let before = self.src.get(..c.span.start as usize).unwrap_or("");
        for ch in before.chars().rev() {
            match ch {
                ' ' | '\t' | '\r' | '\u{c}' | '\u{feff}' => {}
                '\n' => return false,
                _ => return true,
            }
        }
        false
    }

    /// Prints one comment: at the end of the open line if it followed code on its source line,
    /// else on a line of its own at `indent`. A line comment ends its line.
    fn emit(&mut self, c: &Comment, indent: usize) {
        if !(self.open && self.code && self.is_end_of_line(c)) {
            self.start_line(indent);
        } else {
            self.out.push(' ');
        }
        match c.kind {
            CommentKind::Line | CommentKind::Percent => {
                self.out.push_str(c.text.trim_end());
                self.code = true;
                self.end_line();
            }
            CommentKind::Block => {
                if c.text.contains('\r') {
                    self.out.push_str(&normalize_line_breaks(&c.text));
                } else {
                    self.out.push_str(&c.text);
                }
                self.code = true;
            }
        }
    }

    /// Prints every comment that starts before `pos`.
    fn flush_before(&mut self, pos: u32, indent: usize) {
        let comments = self.comments;
        while let Some(c) = comments.get(self.next) {
            if c.span.start >= pos {
                break;
            }
            self.next += 1;
            self.emit(c, indent);
        }
    }

    /// Skips the comments that start before `pos` (they are inside text printed verbatim).
    fn skip_before(&mut self, pos: u32) {
        while self.comments.get(self.next).is_some_and(|c| c.span.start < pos) {
            self.next += 1;
        }
    }

    /// Whether the source between `from` and `to` holds an empty line.
    fn blank_between(&self, from: u32, to: u32) -> bool {
        if to <= from {
            return false;
        }
        let Some(text) = self.src.get(from as usize..to as usize) else { return false };
        let mut breaks = 0;
        for ch in text.chars() {
            match ch {
                '\n' => {
                    breaks += 1;
                    if breaks >= 2 {
                        return true;
                    }
                }
                ' ' | '\t' | '\r' | '\u{c}' | '\u{feff}' => {}
                _ => breaks = 0,
            }
        }
        false
    }

    // ---- items -----------------------------------------------------------------------------

    fn model(&mut self, items: &[Item]) {
        let mut prev: Option<&Item> = None;
        for item in items {
            self.gap(prev, Some(item));
            self.end_line();
            let out_start = self.out.len();
            self.item(item);
            self.regions.push(Region {
                out_start,
                out_end: self.out.len(),
                src_start: item.span.start,
                src_end: item.span.end,
            });
            prev = Some(item);
        }
        self.gap(prev, None);
    }

    /// What lies between two items (or before the first, or after the last): the comments
    /// that end the previous item's last line, then the others on lines of their own, with
    /// the blank lines of the source (at most one in a row), and at least one blank line
    /// between items unless they are a group of declarations.
    fn gap(&mut self, prev: Option<&Item>, next: Option<&Item>) {
        let limit = next.map_or(u32::MAX, |n| n.span.start);
        let comments = self.comments;
        let prev_end = prev.map_or(0, |p| p.span.end);
        let mut anchor = prev_end;
        // The comments printed here that belong to the previous item's region: those on its
        // last line and those inside its span.
        let extend_region = |printer: &mut Printer<'_>, c: &Comment| {
            let out_end = printer.out.len();
            if let Some(region) = printer.regions.last_mut() {
                region.out_end = out_end;
                region.src_end = region.src_end.max(c.span.end);
            }
        };
        if prev.is_some() {
            while let Some(c) = comments.get(self.next) {
                if c.span.start >= limit || !(self.open && self.code && self.is_end_of_line(c)) {
                    break;
                }
                self.next += 1;
                self.emit(c, 0);
                anchor = anchor.max(c.span.end);
                extend_region(self, c);
            }
        }
        let first = self.next;
        let mut last = first;
        while comments.get(last).is_some_and(|c| c.span.start < limit) {
            last += 1;
        }
        let own_line = comments.get(first..last).unwrap_or(&[]);
        // blank[k]: a blank line before own_line[k]; the last entry is before `next`.
        let mut blank = Vec::with_capacity(own_line.len() + 1);
        let mut at = anchor;
        for c in own_line {
            blank.push(self.blank_between(at, c.span.start));
            at = at.max(c.span.end);
        }
        blank.push(next.is_some() && self.blank_between(at, limit));
        if let (Some(p), Some(n)) = (prev, next) {
            let grouped = groupable(p) && groupable(n);
            if !grouped
                && !blank.iter().any(|b| *b)
                && let Some(b) = blank.first_mut()
            {
                *b = true;
            }
        }
        for (k, c) in own_line.iter().enumerate() {
            if blank.get(k).copied().unwrap_or(false) {
                self.blank_line();
            }
            self.next += 1;
            self.emit(c, 0);
            if c.span.start < prev_end {
                extend_region(self, c);
            }
        }
        if blank.last().copied().unwrap_or(false) {
            self.blank_line();
        }
    }

    fn item(&mut self, item: &Item) {
        let dot = if item.terminated { "." } else { "" };
        match &item.kind {
            ItemKind::Clause(clause) => {
                let mut head = String::new();
                agent(&mut head, self.src, &clause.head);
                self.start_line(0);
                self.push(&head);
                match &clause.body {
                    Some(body) => {
                        self.push(" ::");
                        self.def(body, INDENT, dot);
                    }
                    None => self.push(dot),
                }
            }
            ItemKind::RoleDecl(decl) => {
                let mut text = String::from("r(");
                term(&mut text, self.src, &decl.role);
                text.push_str(", ");
                text.push_str(decl.kind.name());
                for (n, _) in decl.min.iter().chain(decl.max.iter()) {
                    text.push_str(", ");
                    text.push_str(&n.to_string());
                }
                text.push(')');
                text.push_str(dot);
                self.start_line(0);
                self.push(&text);
            }
            ItemKind::Annotation(ann) => {
                let mut text = String::from("@annotation(");
                annotation_arg(&mut text, self.src, &ann.target);
                text.push_str(", ");
                annotation_arg(&mut text, self.src, &ann.value);
                text.push(')');
                text.push_str(dot);
                self.start_line(0);
                self.push(&text);
            }
            ItemKind::Dialect(_) | ItemKind::Error => {
                self.start_line(0);
                self.verbatim(item.span);
            }
        }
    }

    /// Copies source text as it is (line breaks normalised), with the comments inside it.
    fn verbatim(&mut self, span: Span) {
        let text = self.text(span);
        if text.contains('\r') {
            self.push(&normalize_line_breaks(text));
        } else {
            self.push(text);
        }
        self.skip_before(span.end);
    }

    // ---- definitions -----------------------------------------------------------------------

    /// Prints a definition at `indent`, `suffix` (` then`, `.`) ending its last line.
    fn def(&mut self, d: &Def, indent: usize, suffix: &str) {
        let d = d.ungrouped();
        let Some((op, _, _)) = d.as_binary() else {
            match &d.kind {
                DefKind::Event(e) => {
                    let mut text = String::new();
                    event(&mut text, self.src, e);
                    self.flush_before(e.span.start, indent);
                    self.start_line(indent);
                    self.push(&text);
                }
                _ => {
                    self.flush_before(d.span.start, indent);
                    self.start_line(indent);
                    self.verbatim(d.span);
                }
            }
            self.push(suffix);
            return;
        };
        let parts = chain(d, op);
        let count = parts.len();
        let mut prev_end = d.span.start;
        for (k, part) in parts.into_iter().enumerate() {
            if k > 0 && op != DefOp::Then {
                let at = self.find_keyword(prev_end, part.span.start, op).unwrap_or(part.span.start);
                self.flush_before(at, indent);
                self.start_line(indent);
                self.push(op.keyword());
            }
            let part_suffix = if k + 1 == count {
                suffix
            } else if op == DefOp::Then {
                " then"
            } else {
                ""
            };
            self.operand(part, op, indent, part_suffix);
            prev_end = part.span.end;
        }
    }

    /// One operand of a chain of `parent`: parenthesised when it is another operator.
    fn operand(&mut self, part: &Def, parent: DefOp, indent: usize, suffix: &str) {
        let inner = part.ungrouped();
        match inner.as_binary() {
            Some((op, _, _)) if op != parent => {
                self.flush_before(part.span.start, indent);
                self.start_line(indent);
                self.push("(");
                self.def(inner, indent + INDENT, "");
                if matches!(part.kind, DefKind::Group { .. }) {
                    // The comments before the source's closing parenthesis stay inside.
                    self.flush_before(part.span.end.saturating_sub(1), indent + INDENT);
                }
                self.start_line(indent);
                self.push(")");
                self.push(suffix);
            }
            _ => self.def(inner, indent, suffix),
        }
    }

    /// The offset of the `or`/`par`/`then` keyword between two operands.
    fn find_keyword(&self, from: u32, to: u32, op: DefOp) -> Option<u32> {
        let gap = self.src.get(from as usize..to as usize)?;
        let want = match op {
            DefOp::Or => Token::Or,
            DefOp::Par => Token::Par,
            DefOp::Then => Token::Then,
        };
        let tok = tokenize(gap).into_iter().find(|t| t.token == want)?;
        from.checked_add(u32::try_from(tok.start).ok()?)
    }
}

/// Role declarations, annotations and OKeilidh facts: consecutive ones stay without blank lines.
fn groupable(item: &Item) -> bool {
    match &item.kind {
        ItemKind::RoleDecl(_) | ItemKind::Annotation(_) => true,
        ItemKind::Dialect(d) => matches!(d.kind, DialectItemKind::Plays | DialectItemKind::Knows),
        _ => false,
    }
}

/// The operands of a chain of one operator, in order, each as written (groups kept).
fn chain(d: &Def, op: DefOp) -> Vec<&Def> {
    let mut parts = Vec::new();
    // Iterative on purpose: a long `then` chain is a deep right spine.
    let mut stack = vec![d];
    while let Some(d) = stack.pop() {
        match d.ungrouped().as_binary() {
            Some((o, l, r)) if o == op => {
                stack.push(r);
                stack.push(l);
            }
            _ => parts.push(d),
        }
    }
    parts
}

// ---- events, guards, terms (into a String) ------------------------------------------------

fn event(out: &mut String, src: &str, e: &Event) {
    match &e.kind {
        EventKind::Send { message, to } => {
            term(out, src, message);
            out.push_str(" => ");
            agent(out, src, to);
        }
        EventKind::Receive { message, from, guard_first: true } => {
            if let Some(g) = e.guard.as_ref().filter(|g| head_cond_ok(&g.constraint)) {
                head_cond(out, src, &g.constraint);
                out.push_str(" <- ");
                term(out, src, message);
                out.push_str(" <= ");
                agent(out, src, from);
                return;
            }
            // Not printable before the message: the guard after it means the same.
            term(out, src, message);
            out.push_str(" <= ");
            agent(out, src, from);
        }
        EventKind::Receive { message, from, guard_first: false } => {
            term(out, src, message);
            out.push_str(" <= ");
            agent(out, src, from);
        }
        EventKind::Null { .. } => out.push_str("null"),
        EventKind::RoleChange(a) => agent(out, src, a),
    }
    if let Some(g) = &e.guard {
        out.push_str(" <- ");
        cond(out, src, &g.constraint, CondCtx::Top);
    }
}

fn agent(out: &mut String, src: &str, a: &Agent) {
    out.push_str("a(");
    term(out, src, &a.role);
    out.push_str(", ");
    term(out, src, &a.id);
    out.push(')');
}

/// `a, b, c`: each item printed by `print`.
fn comma_separated<T>(out: &mut String, items: &[T], mut print: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        print(out, item);
    }
}

fn annotation_arg(out: &mut String, src: &str, arg: &AnnotationArg) {
    match arg {
        AnnotationArg::Tagged { name, args, .. } => {
            out.push('@');
            out.push_str(name);
            out.push('(');
            comma_separated(out, args, |out, a| annotation_arg(out, src, a));
            out.push(')');
        }
        AnnotationArg::Term(t) => term(out, src, t),
    }
}

/// Where a condition is printed, loosest first; decides its parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CondCtx {
    /// The whole guard: the word `or` here would be the definition's choice operator.
    Top,
    /// Inside parentheses: `or` is a disjunction.
    Paren,
    /// An operand of `or` (left) or the right operand of `and`.
    And,
    /// The operand of `not`, or the left operand of `and`.
    Not,
}

fn cond(out: &mut String, src: &str, c: &Constraint, ctx: CondCtx) {
    match &c.kind {
        ConstraintKind::Or(l, r) => {
            let paren = ctx != CondCtx::Paren;
            if paren {
                out.push('(');
            }
            cond(out, src, l, CondCtx::And);
            out.push_str(" or ");
            cond(out, src, r, CondCtx::Paren);
            if paren {
                out.push(')');
            }
        }
        ConstraintKind::And(l, r) => {
            let paren = ctx == CondCtx::Not;
            if paren {
                out.push('(');
            }
            cond(out, src, l, CondCtx::Not);
            out.push_str(" and ");
            cond(out, src, r, CondCtx::And);
            if paren {
                out.push(')');
            }
        }
        ConstraintKind::Not(x) => {
            out.push_str("not ");
            cond(out, src, x, CondCtx::Not);
        }
        ConstraintKind::Call(t) => term(out, src, t),
        ConstraintKind::Compare { op, lhs, rhs } => {
            arith(out, src, lhs, 0);
            out.push(' ');
            out.push_str(op.text());
            out.push(' ');
            arith(out, src, rhs, 0);
        }
        ConstraintKind::Is { lhs, rhs } => {
            arith(out, src, lhs, 0);
            out.push_str(" is ");
            arith(out, src, rhs, 0);
        }
        ConstraintKind::Error => out.push_str(src.get(c.span.range()).unwrap_or("")),
    }
}

/// Whether a condition can stand before a guard-first receive `C <- M <= a(R, I)`, where the
/// grammar admits less: no parenthesis first, `||` for disjunction, a plain term before a
/// comparison. Every such condition the parser produced passes.
fn head_cond_ok(c: &Constraint) -> bool {
    let head_not = |c: &Constraint| match &c.kind {
        ConstraintKind::Not(_) | ConstraintKind::Call(_) => true,
        ConstraintKind::Compare { lhs, .. } | ConstraintKind::Is { lhs, .. } => plain_term(lhs),
        _ => false,
    };
    let head_and = |c: &Constraint| match &c.kind {
        ConstraintKind::And(l, _) => head_not(l),
        _ => head_not(c),
    };
    match &c.kind {
        ConstraintKind::Or(l, _) => head_and(l),
        _ => head_and(c),
    }
}

/// A term that the grammar's `Term` rule yields (not arithmetic, not a negative literal).
fn plain_term(t: &Term) -> bool {
    match &t.kind {
        TermKind::Int(n) => *n >= 0,
        TermKind::Float { text, .. } => !text.starts_with('-'),
        TermKind::Arith { .. } | TermKind::Neg(_) | TermKind::Error => false,
        _ => true,
    }
}

/// A condition checked by [`head_cond_ok`], in the form the guard-first grammar reads.
fn head_cond(out: &mut String, src: &str, c: &Constraint) {
    fn head_not(out: &mut String, src: &str, c: &Constraint) {
        match &c.kind {
            ConstraintKind::Compare { op, lhs, rhs } => {
                term(out, src, lhs);
                out.push(' ');
                out.push_str(op.text());
                out.push(' ');
                arith(out, src, rhs, 0);
            }
            ConstraintKind::Is { lhs, rhs } => {
                term(out, src, lhs);
                out.push_str(" is ");
                arith(out, src, rhs, 0);
            }
            _ => cond(out, src, c, CondCtx::Not),
        }
    }
    fn head_and(out: &mut String, src: &str, c: &Constraint) {
        match &c.kind {
            ConstraintKind::And(l, r) => {
                head_not(out, src, l);
                out.push_str(" and ");
                cond(out, src, r, CondCtx::And);
            }
            _ => head_not(out, src, c),
        }
    }
    match &c.kind {
        ConstraintKind::Or(l, r) => {
            head_and(out, src, l);
            out.push_str(" || ");
            cond(out, src, r, CondCtx::Top);
        }
        _ => head_and(out, src, c),
    }
}

/// Arithmetic with the parentheses its tree needs: an operand binding looser than `min_prec`
/// is parenthesised. Left operands take the operator's precedence, right operands one more
/// (the operators are left-associative, and `a + (b + c)` is another tree than `a + b + c`).
fn arith(out: &mut String, src: &str, t: &Term, min_prec: u8) {
    match &t.kind {
        TermKind::Arith { op, lhs, rhs } => {
            let prec = op.precedence();
            let paren = prec < min_prec;
            if paren {
                out.push('(');
            }
            arith(out, src, lhs, prec);
            out.push(' ');
            out.push_str(op.text());
            out.push(' ');
            arith(out, src, rhs, prec + 1);
            if paren {
                out.push(')');
            }
        }
        TermKind::Neg(inner) => {
            out.push('-');
            // `-5` would be the literal, `--X` is not a token: parenthesise those.
            let bare = matches!(
                inner.kind,
                TermKind::Var(_)
                    | TermKind::Anon
                    | TermKind::Atom(_)
                    | TermKind::Compound { .. }
                    | TermKind::List { .. }
                    | TermKind::Str(_)
            );
            if bare {
                term(out, src, inner);
            } else {
                out.push('(');
                arith(out, src, inner, 0);
                out.push(')');
            }
        }
        _ => term(out, src, t),
    }
}

fn term(out: &mut String, src: &str, t: &Term) {
    match &t.kind {
        TermKind::Var(v) => out.push_str(v),
        TermKind::Anon => out.push('_'),
        TermKind::Atom(a) => out.push_str(&atom_text(a)),
        TermKind::Int(n) => out.push_str(&n.to_string()),
        TermKind::Float { text, .. } => out.push_str(text),
        TermKind::Str(s) => string(out, s),
        TermKind::Compound { functor, args } => {
            // LiJ's `_findPeers(…)`: a variable-like functor written without quotes stays so.
            let var_like = functor.chars().next().is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                && functor.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let quoted = src.get(t.span.start as usize..).is_some_and(|s| s.starts_with('\''));
            if var_like && !quoted {
                out.push_str(functor);
            } else {
                out.push_str(&atom_text(functor));
            }
            out.push('(');
            comma_separated(out, args, |out, a| term(out, src, a));
            out.push(')');
        }
        TermKind::List { items, tail } => {
            out.push('[');
            comma_separated(out, items, |out, a| term(out, src, a));
            if let Some(tail) = tail {
                out.push_str(" | ");
                term(out, src, tail);
            }
            out.push(']');
        }
        TermKind::Arith { .. } | TermKind::Neg(_) => arith(out, src, t, 0),
        TermKind::Error => out.push_str(src.get(t.span.range()).unwrap_or("")),
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
}
