//! Module metadata read from the source text, without an interpreter.
//!
//! Listing environments must not start a sandboxed interpreter per module
//! (hundreds of LLM-written modules, and every process that imports resyn
//! lists them). Environment modules declare their metadata as plain
//! top-level literals (`NAME = "maze"`, `VERSION = 2`, `DESCRIPTION = (...)`),
//! so a small, strict reader recovers them:
//!
//! - it splits the source into logical lines the way Python's tokenizer does
//!   (strings of every prefix and quote style, f-string replacement fields,
//!   comments, brackets, backslash continuations);
//! - `NAME`, `CATEGORY`, `DESCRIPTION`: one top-level assignment each of a
//!   `str` literal: plain, raw or triple-quoted strings with Python's escape
//!   rules, implicitly concatenated, optionally parenthesized;
//! - `VERSION`: one top-level `int` literal, or absent (then 1, as the harness
//!   has it);
//! - `generate`, `verify` and `solve`: whether they are top-level `def`s.
//!
//! Anything it cannot read for certain is [`StaticMeta::Unreadable`] and the
//! caller loads the module in the sandbox instead: a missing or non-literal
//! value, a second binding of one of these names (another assignment, an
//! import, a `class`, a `global` statement, a binding inside a top-level
//! `if`/`try`/`for`/`with` body), top-level code that can rewrite module
//! globals (`globals()`, `vars()`, `setattr`, `exec`, `eval`, `__dict__`,
//! `import *`), `\N{...}` escapes, lone surrogates, carriage returns, a
//! byte-order mark. The reader never claims more than it read: what it
//! returns is checked against the loaded module's own report when a worker
//! first loads it, and a difference is an error for that environment
//! ([`crate::Error::Load`]), never silently different metadata.
//!
//! Values are normalized like the harness normalizes them: strings are
//! stripped of Python whitespace (`str.strip()`, which also strips
//! `\x1c`-`\x1f`); a value the harness would cut (over 65,536 characters) is
//! left to the harness.

/// What the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StaticMeta {
    /// Every value, read for certain.
    Read(ModuleMeta),
    /// The source must be loaded to know; the reason, for diagnostics.
    Unreadable(String),
}

/// Metadata as the harness reports it after loading the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModuleMeta {
    pub name: String,
    pub category: String,
    pub description: String,
    pub version: u64,
    pub has_solve: bool,
}

/// Names whose binding the reader must see exactly once (metadata) or as a
/// `def` (functions).
const META_NAMES: [&str; 4] = ["NAME", "CATEGORY", "DESCRIPTION", "VERSION"];
const FUNC_NAMES: [&str; 3] = ["generate", "verify", "solve"];
/// Names that let top-level code rewrite module globals indirectly.
const DYNAMIC: [&str; 7] = [
    "globals",
    "vars",
    "setattr",
    "exec",
    "eval",
    "__dict__",
    "__builtins__",
];
/// The harness keeps at most this many characters of a metadata string.
const MAX_CHARS: usize = 1 << 16;

/// Read the metadata of `source`.
pub(crate) fn read(source: &str) -> StaticMeta {
    match read_inner(source) {
        Ok(m) => StaticMeta::Read(m),
        Err(why) => StaticMeta::Unreadable(why),
    }
}

type R<T> = std::result::Result<T, String>;

fn read_inner(source: &str) -> R<ModuleMeta> {
    if source.starts_with('\u{feff}') {
        return Err("the source starts with a byte-order mark".into());
    }
    if source.contains('\r') {
        return Err("the source contains carriage returns".into());
    }
    let mut values: [Option<Literal>; 4] = [None, None, None, None];
    let mut defs = [false; 3];
    // Enclosing compound statements: (header indent, kind).
    let mut blocks: Vec<(usize, Block)> = Vec::new();
    logical_lines(source, |toks, indent| {
        while blocks.last().is_some_and(|&(i, _)| i >= indent) {
            blocks.pop();
        }
        let kind = block_kind(toks);
        let in_def = blocks.iter().any(|&(_, k)| k == Block::Def);
        let in_class = blocks.last().is_some_and(|&(_, k)| k == Block::Class);
        if let Some(k) = kind {
            blocks.push((indent, k));
        }
        check_global(toks)?;
        if in_def {
            // A function body runs only when called.
            return Ok(());
        }
        if in_class {
            // Class bodies run at load time, but bind class attributes.
            check_dynamic(toks)?;
            return Ok(());
        }
        if indent > 0 {
            // The body of a top-level if/for/try/with/...: runs at load time.
            check_executed(toks)?;
            return Ok(());
        }
        if let Some(name) = def_name(toks) {
            if let Some(k) = FUNC_NAMES.iter().position(|f| *f == name) {
                if defs[k] {
                    return Err(format!("`{name}` is defined twice"));
                }
                defs[k] = true;
            } else if META_NAMES.contains(&name) {
                return Err(format!("`{name}` is bound by a def"));
            }
            return Ok(());
        }
        if let Some(name) = class_name(toks) {
            if is_key(name) {
                return Err(format!("`{name}` is bound by a class"));
            }
            return Ok(());
        }
        if let Some((name, value)) = meta_assignment(toks) {
            let k = META_NAMES
                .iter()
                .position(|m| *m == name)
                .unwrap_or_default();
            if values[k].is_some() {
                return Err(format!("`{name}` is assigned twice"));
            }
            values[k] = Some(value?);
            return Ok(());
        }
        check_executed(toks)
    })?;
    if !defs[0] || !defs[1] {
        return Err("generate() or verify() is not a top-level def".into());
    }
    let mut text = |k: usize| -> R<String> {
        match values[k].take() {
            Some(Literal::Str(s)) => {
                let s = py_strip(&s);
                if s.is_empty() {
                    Err(format!("{} is empty", META_NAMES[k]))
                } else if s.chars().count() > MAX_CHARS {
                    Err(format!("{} is too long to read here", META_NAMES[k]))
                } else {
                    Ok(s.to_string())
                }
            }
            Some(Literal::Int(_)) => Err(format!("{} is not a str", META_NAMES[k])),
            None => Err(format!("{} is not assigned a literal", META_NAMES[k])),
        }
    };
    let name = text(0)?;
    let category = text(1)?;
    let description = text(2)?;
    let version = match values[3].take() {
        None => 1,
        Some(Literal::Int(v)) => v,
        Some(Literal::Str(_)) => return Err("VERSION is not an int".into()),
    };
    Ok(ModuleMeta {
        name,
        category,
        description,
        version,
        has_solve: defs[2],
    })
}

/// The top-level packages `source` imports (`import a.b`, `from a import
/// x`; not relative imports), anywhere in the file, sorted and unique. A
/// source the reader cannot split yields what it read before the problem:
/// this only chooses what to preload.
pub(crate) fn imports(source: &str) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    let _ = logical_lines(source, |toks, _| {
        for stmt in toks.split(|t| matches!(t, Tok::Op(";"))) {
            match stmt {
                [Tok::Name("import"), rest @ ..] => {
                    for part in rest.split(|t| matches!(t, Tok::Op(","))) {
                        if let [Tok::Name(first), ..] = part {
                            out.insert((*first).to_string());
                        }
                    }
                }
                [Tok::Name("from"), Tok::Name(first), ..] => {
                    out.insert((*first).to_string());
                }
                _ => {}
            }
        }
        Ok(())
    });
    out.into_iter().collect()
}

fn is_key(name: &str) -> bool {
    META_NAMES.contains(&name) || FUNC_NAMES.contains(&name)
}

/// Python's `str.strip()`: Rust's whitespace plus the four separators
/// `\x1c`-`\x1f`, which Python counts as whitespace.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// What kind of block a statement opens, if it is a compound statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Def,
    Class,
    Other,
}

fn block_kind(toks: &[Tok<'_>]) -> Option<Block> {
    if def_name(toks).is_some() {
        return Some(Block::Def);
    }
    let Some(Tok::Name(first)) = toks.first() else {
        return None;
    };
    match *first {
        "class" => Some(Block::Class),
        "if" | "elif" | "else" | "for" | "while" | "try" | "except" | "finally" | "with"
        | "async" | "match" | "case" => Some(Block::Other),
        _ => None,
    }
}

/// `def NAME` / `async def NAME` at the start of a statement.
fn def_name<'a>(toks: &[Tok<'a>]) -> Option<&'a str> {
    let rest = match toks {
        [Tok::Name("async"), rest @ ..] => rest,
        _ => toks,
    };
    match rest {
        [Tok::Name("def"), Tok::Name(n), ..] => Some(n),
        _ => None,
    }
}

fn class_name<'a>(toks: &[Tok<'a>]) -> Option<&'a str> {
    match toks {
        [Tok::Name("class"), Tok::Name(n), ..] => Some(n),
        _ => None,
    }
}

/// `META = <literal>` or `META: annotation = <literal>` for a metadata
/// name; the value is an error when it is not a plain literal.
fn meta_assignment<'a>(toks: &[Tok<'a>]) -> Option<(&'a str, R<Literal>)> {
    let Some(&Tok::Name(name)) = toks.first() else {
        return None;
    };
    if !META_NAMES.contains(&name) {
        return None;
    }
    let value = match toks.get(1) {
        Some(Tok::Op("=")) => &toks[2..],
        Some(Tok::Op(":")) => {
            // Annotated: skip the annotation up to the depth-0 `=`.
            let eq = toks.iter().position(|t| matches!(t, Tok::Op("=")));
            match eq {
                Some(i) => &toks[i + 1..],
                None => return Some((name, Err(format!("`{name}` is annotated without a value")))),
            }
        }
        _ => {
            return Some((
                name,
                Err(format!("`{name}` is bound by a statement other than `=`")),
            ));
        }
    };
    Some((name, literal(name, value)))
}

/// A literal value of a metadata assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Literal {
    Str(String),
    Int(u64),
}

fn literal(name: &str, toks: &[Tok<'_>]) -> R<Literal> {
    let bad = || format!("`{name}` is not assigned a plain literal");
    // Outer parentheses only: `("a" "b")`, `((1))`.
    let mut inner = toks;
    while let [Tok::Op("("), mid @ .., Tok::Op(")")] = inner {
        inner = mid;
    }
    match inner {
        [Tok::Num(n)] => parse_int(n).map(Literal::Int).ok_or_else(bad),
        [] => Err(bad()),
        strs => {
            let mut out = String::new();
            for t in strs {
                match t {
                    Tok::Str(s) => out.push_str(&s.decode()?),
                    _ => return Err(bad()),
                }
            }
            Ok(Literal::Str(out))
        }
    }
}

/// A decimal, hex, octal or binary int literal (underscores between digits).
fn parse_int(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let (digits, radix) = match lower.get(..2) {
        Some("0x") => (&lower[2..], 16),
        Some("0o") => (&lower[2..], 8),
        Some("0b") => (&lower[2..], 2),
        _ => (lower.as_str(), 10),
    };
    let digits = digits.strip_prefix('_').unwrap_or(digits);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        // Python rejects leading zeros in decimal literals (`01`), except 0.
        || (radix == 10 && digits.starts_with('0') && !digits.trim_start_matches(['0', '_']).is_empty())
    {
        return None;
    }
    if radix == 10 && lower.starts_with('_') {
        return None;
    }
    u64::from_str_radix(&digits.replace('_', ""), radix).ok()
}

/// Top-level code that runs at load time must not bind a watched name nor
/// reach module globals indirectly.
fn check_executed(toks: &[Tok<'_>]) -> R<()> {
    check_dynamic(toks)?;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Name(n) if META_NAMES.contains(n) => {
                return Err(format!("top-level code uses `{n}`"));
            }
            Tok::Name(n) if FUNC_NAMES.contains(n) && binds(toks, i) => {
                return Err(format!("top-level code binds `{n}`"));
            }
            Tok::Name("import") => {
                if let Some(b) = import_binds_key(&toks[i + 1..]) {
                    return Err(b);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Code that runs at load time must not reach module globals indirectly.
fn check_dynamic(toks: &[Tok<'_>]) -> R<()> {
    for t in toks {
        match t {
            Tok::Name(n) if DYNAMIC.contains(n) => {
                return Err(format!("code run at load time uses `{n}`"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether the name at `toks[i]` is bound by the statement: an assignment
/// target (before a depth-0 `=`), a walrus, a `for`/`as`/`del` target, an
/// `import` name, a `match` capture.
fn binds(toks: &[Tok<'_>], i: usize) -> bool {
    let op = |k: usize, ops: &[&str]| matches!(toks.get(k), Some(Tok::Op(o)) if ops.contains(o));
    let kw = |k: usize, kws: &[&str]| matches!(toks.get(k), Some(Tok::Name(n)) if kws.contains(n));
    let assign_after = toks[i + 1..].iter().any(|t| {
        matches!(t, Tok::Op(o) if *o == "=" || (o.ends_with('=') && !matches!(*o, "==" | "!=" | "<=" | ">=")))
    });
    assign_after
        || op(i + 1, &[":="])
        || (i > 0
            && kw(
                i - 1,
                &[
                    "for", "as", "del", "import", "def", "class", "case", "global", "nonlocal",
                ],
            ))
        || toks
            .iter()
            .any(|t| matches!(t, Tok::Name("case" | "match")))
}

/// For the names after `import`: a binding of a watched name, or `*`.
fn import_binds_key(after: &[Tok<'_>]) -> Option<String> {
    for (k, t) in after.iter().enumerate() {
        match t {
            Tok::Op("*") => return Some("top-level code uses `import *`".into()),
            Tok::Name(n) if is_key(n) => {
                // `import a.generate` binds `a`; `from m import generate`,
                // `... as generate` bind it.
                let dotted = matches!(after.get(k.wrapping_sub(1)), Some(Tok::Op("."))) && k > 0;
                if !dotted {
                    return Some(format!("top-level code imports `{n}`"));
                }
            }
            _ => {}
        }
    }
    None
}

/// `global NAME` anywhere (a function called at load time could rebind it).
fn check_global(toks: &[Tok<'_>]) -> R<()> {
    let mut in_global = false;
    for t in toks {
        match t {
            Tok::Name("global") => in_global = true,
            Tok::Name(n) if in_global && is_key(n) => {
                return Err(format!("a `global {n}` statement"));
            }
            Tok::Op(";") => in_global = false,
            _ => {}
        }
    }
    Ok(())
}

// ------------------------------------------------------------- tokenizer

/// A token, as far as the reader needs one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    /// An identifier or keyword.
    Name(&'a str),
    /// A number (kept as text).
    Num(&'a str),
    /// A string literal.
    Str(StrLit<'a>),
    /// An operator or delimiter.
    Op(&'static str),
}

/// A string literal's prefix and body (between the quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StrLit<'a> {
    prefix: &'a str,
    body: &'a str,
}

/// Operators and delimiters by length (the longest match wins).
const OPS3: [&str; 5] = ["**=", "//=", ">>=", "<<=", "..."];
const OPS2: [&str; 19] = [
    "->", ":=", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "@=", "&=", "|=", "^=", "**",
    "//", "<<", ">>",
];
const OPS1: [&str; 23] = [
    "+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<", ">", "=", ".", ",", ":", ";", "(", ")",
    "[", "]", "{", "}",
];

/// The operator or delimiter `rest` starts with.
fn op_at(rest: &str) -> Option<&'static str> {
    let b = rest.as_bytes();
    let find = |ops: &[&'static str], n: usize| {
        let head = b.get(..n)?;
        ops.iter().copied().find(|o| o.as_bytes() == head)
    };
    find(&OPS3, 3)
        .or_else(|| find(&OPS2, 2))
        .or_else(|| find(&OPS1, 1))
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        // Sources are mostly ASCII: decode only when they are not.
        match self.s.as_bytes().get(self.pos) {
            Some(&b) if b.is_ascii() => Some(b as char),
            Some(_) => self.s[self.pos..].chars().next(),
            None => None,
        }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Whether the next two characters are both `q`.
    fn at_two(&self, q: char) -> bool {
        let mut c = self.rest().chars();
        c.next() == Some(q) && c.next() == Some(q)
    }

    /// Skip a string literal whose opening quote is at `pos` (prefix already
    /// consumed); returns its body. Replacement fields of f- and t-strings
    /// are skipped with their nested strings and brackets.
    fn string(&mut self, prefix: &str) -> R<&'a str> {
        let formatted = prefix
            .bytes()
            .any(|b| matches!(b.to_ascii_lowercase(), b'f' | b't'));
        let q = self.bump().ok_or("unterminated string")?;
        let triple = self.at_two(q);
        if triple {
            self.pos += 2;
        }
        let start = self.pos;
        let bytes = self.s.as_bytes();
        // `q` is a quote character, so ASCII.
        let quote = q as u8;
        loop {
            // Skip plain characters at once; the match below handles the rest.
            while let Some(&b) = bytes.get(self.pos) {
                if b.is_ascii()
                    && !matches!(b, b'\\' | b'\n')
                    && b != quote
                    && !(formatted && b == b'{')
                {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            let at = self.pos;
            let Some(c) = self.bump() else {
                return Err("unterminated string".into());
            };
            match c {
                // Escapes the next character (raw strings too, for quotes).
                '\\' if self.bump().is_none() => return Err("unterminated string".into()),
                '\\' => {}
                '\n' if !triple => return Err("unterminated string".into()),
                '{' if formatted => {
                    if self.peek() == Some('{') {
                        self.pos += 1;
                    } else {
                        self.field()?;
                    }
                }
                c if c == q => {
                    if !triple {
                        return Ok(&self.s[start..at]);
                    }
                    if self.at_two(q) {
                        self.pos += 2;
                        return Ok(&self.s[start..at]);
                    }
                }
                _ => {}
            }
        }
    }

    /// Skip an f-string replacement field after its `{`.
    fn field(&mut self) -> R<()> {
        let mut depth = 1usize;
        while depth > 0 {
            let Some(c) = self.peek() else {
                return Err("unterminated f-string field".into());
            };
            match c {
                '{' | '(' | '[' => {
                    depth += 1;
                    self.pos += 1;
                }
                '}' | ')' | ']' => {
                    depth -= 1;
                    self.pos += 1;
                }
                '\'' | '"' => {
                    self.string("")?;
                }
                c if c.is_alphabetic() || c == '_' => {
                    let name = self.name();
                    if is_prefix(name) && matches!(self.peek(), Some('\'' | '"')) {
                        self.string(name)?;
                    }
                }
                _ => {
                    self.pos += c.len_utf8();
                }
            }
        }
        Ok(())
    }

    fn name(&mut self) -> &'a str {
        let start = self.pos;
        let bytes = self.s.as_bytes();
        while bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.pos += 1;
        }
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        &self.s[start..self.pos]
    }
}

/// String prefixes Python accepts (any case): u, r, b, f, t and the raw
/// combinations.
fn is_prefix(name: &str) -> bool {
    ["r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt"]
        .iter()
        .any(|p| name.eq_ignore_ascii_case(p))
}

/// Split `src` into logical lines, handing each to `each` with the
/// indentation of its first physical line (one token buffer, reused: listing
/// reads hundreds of modules).
fn logical_lines<'a>(src: &'a str, mut each: impl FnMut(&[Tok<'a>], usize) -> R<()>) -> R<()> {
    let mut lx = Lexer { s: src, pos: 0 };
    let mut cur: Vec<Tok> = Vec::new();
    let mut indent = 0usize;
    let mut depth = 0usize;
    let mut at_line_start = true;
    while let Some(c) = lx.peek() {
        if at_line_start && depth == 0 && cur.is_empty() {
            if c == '\x0c' {
                return Err("a line starts with a form feed".into());
            }
            indent = lx.rest().len() - lx.rest().trim_start_matches([' ', '\t']).len();
        }
        at_line_start = false;
        match c {
            '\n' => {
                lx.pos += 1;
                at_line_start = true;
                if depth == 0 && !cur.is_empty() {
                    each(&cur, indent)?;
                    cur.clear();
                }
            }
            ' ' | '\t' | '\x0c' => lx.pos += 1,
            '#' => {
                // To the end of the line ('\n' is ASCII: never inside a
                // multi-byte character).
                lx.pos += lx.rest().find('\n').unwrap_or(lx.rest().len());
            }
            '\\' => {
                lx.pos += 1;
                if lx.peek() != Some('\n') {
                    return Err("a backslash outside a string is not a line continuation".into());
                }
                lx.pos += 1;
                if lx.peek().is_none() {
                    return Err("a line continuation at the end of the file".into());
                }
            }
            '\'' | '"' => {
                let body = lx.string("")?;
                cur.push(Tok::Str(StrLit { prefix: "", body }));
            }
            c if c.is_ascii_digit()
                || (c == '.' && lx.rest()[1..].starts_with(|d: char| d.is_ascii_digit())) =>
            {
                let start = lx.pos;
                while let Some(d) = lx.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '.' {
                        lx.pos += d.len_utf8();
                    } else {
                        break;
                    }
                }
                cur.push(Tok::Num(&src[start..lx.pos]));
            }
            c if c.is_alphabetic() || c == '_' => {
                let name = lx.name();
                if matches!(lx.peek(), Some('\'' | '"')) && is_prefix(name) {
                    let body = lx.string(name)?;
                    cur.push(Tok::Str(StrLit { prefix: name, body }));
                } else {
                    cur.push(Tok::Name(name));
                }
            }
            _ => {
                let op = op_at(lx.rest()).ok_or_else(|| format!("unexpected character {c:?}"))?;
                lx.pos += op.len();
                match op {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => {
                        depth = depth.checked_sub(1).ok_or("unbalanced closing bracket")?;
                    }
                    _ => {}
                }
                cur.push(Tok::Op(op));
            }
        }
    }
    if depth != 0 {
        return Err("unbalanced brackets".into());
    }
    if !cur.is_empty() {
        each(&cur, indent)?;
    }
    Ok(())
}

impl StrLit<'_> {
    /// The `str` value, by Python's rules; an error for bytes, f-strings and
    /// escapes the reader does not decode.
    fn decode(&self) -> R<String> {
        let p = self.prefix.to_ascii_lowercase();
        if p.contains('b') || p.contains('f') || p.contains('t') {
            return Err("not a plain str literal".into());
        }
        if p.contains('r') {
            return Ok(self.body.to_string());
        }
        let mut out = String::with_capacity(self.body.len());
        let mut it = self.body.chars().peekable();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = it.next() else {
                return Err("a trailing backslash".into());
            };
            match e {
                '\n' => {}
                '\\' | '\'' | '"' => out.push(e),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\x0b'),
                '0'..='7' => {
                    let mut v = e.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match it.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                v = v * 8 + d;
                                it.next();
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(v).ok_or("an octal escape out of range")?);
                }
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = (0..n).filter_map(|_| it.next()).collect();
                    if hex.len() != n || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                        return Err("a truncated hex escape".into());
                    }
                    let v = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                    // Lone surrogates cannot be UTF-8 (the harness would
                    // replace them); code points past U+10FFFF are errors.
                    out.push(char::from_u32(v).ok_or("a surrogate or out-of-range escape")?);
                }
                'N' => return Err("a \\N{...} escape".into()),
                other => {
                    // Unknown escapes stay as they are (with a warning in Python).
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAIL: &str = "\ndef generate(rng, difficulty):\n    return {}\n\ndef verify(instance, answer):\n    return 0.0\n";

    fn module(head: &str) -> String {
        format!("{head}{TAIL}")
    }

    fn meta(head: &str) -> ModuleMeta {
        match read(&module(head)) {
            StaticMeta::Read(m) => m,
            StaticMeta::Unreadable(why) => panic!("unreadable: {why}\n{head}"),
        }
    }

    fn unreadable(head: &str) -> String {
        match read(&module(head)) {
            StaticMeta::Read(m) => panic!("read {m:?} from\n{head}"),
            StaticMeta::Unreadable(why) => why,
        }
    }

    const BASIC: &str = "NAME = 'maze'\nCATEGORY = \"spatial\"\nDESCRIPTION = 'Find a path.'\n";

    #[test]
    fn plain_modules_read_with_defaults() {
        let m = meta(BASIC);
        assert_eq!(m.name, "maze");
        assert_eq!(m.category, "spatial");
        assert_eq!(m.description, "Find a path.");
        assert_eq!(m.version, 1);
        assert!(!m.has_solve);
        let m = meta(&format!(
            "{BASIC}VERSION = 0x2\ndef solve(instance):\n    return ''\n"
        ));
        assert_eq!(m.version, 2);
        assert!(m.has_solve);
    }

    #[test]
    fn concatenated_parenthesized_descriptions_are_joined_and_stripped() {
        let m = meta(concat!(
            "NAME = 'x'\nCATEGORY = 'logic'\n",
            "DESCRIPTION = (\n    \"Given a grid, \"  # comment \"not a string\n",
            "    'find ' r'a \\path' \"\"\"\n\ttriple \"quoted\" \"\"\"\n)\n",
        ));
        assert_eq!(
            m.description,
            "Given a grid, find a \\path\n\ttriple \"quoted\""
        );
        let m = meta(
            "NAME = ('x')\nCATEGORY = 'logic'\nDESCRIPTION = \\\n  ' \\x41\\u00e9\\101\\n '\n",
        );
        assert_eq!(m.name, "x");
        assert_eq!(m.description, "A\u{e9}A");
    }

    #[test]
    fn strings_and_comments_hide_look_alikes() {
        let m = meta(concat!(
            "NAME = 'x'  # NAME = 'y'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n",
            "HELP = '''\nNAME = \"z\"\ndef solve(i):\n'''\n",
            "TEMPLATE = f\"{ {'NAME': 1}['NAME'] } and {'}'}\"\n",
        ));
        assert_eq!(m.name, "x");
        assert!(!m.has_solve);
    }

    #[test]
    fn indirect_or_repeated_bindings_are_unreadable() {
        for head in [
            "NAME = 'x'\nNAME = 'y'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n",
            "NAME = 'x' + 'y'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n",
            "NAME = f'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n",
            "NAME = b'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = '\\N{BULLET}'\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nif True:\n    NAME = 'y'\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nglobals()['NAME'] = 'y'\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nfrom helpers import *\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nfrom helpers import solve\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nsolve = None\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\ndef f():\n    global NAME\n",
            "NAME, CATEGORY = 'x', 'logic'\nDESCRIPTION = 'd'\n",
            "CATEGORY = 'logic'\nDESCRIPTION = 'd'\n",
            "NAME = '   '\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'd'\nVERSION = 01\n",
            "NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = 'unterminated\n",
        ] {
            unreadable(head);
        }
        assert!(matches!(read("NAME = 'x'\n"), StaticMeta::Unreadable(_)));
    }

    #[test]
    fn python_whitespace_is_stripped_like_str_strip() {
        let m = meta("NAME = 'x'\nCATEGORY = 'logic'\nDESCRIPTION = '\\x1c d \\u3000\\x85'\n");
        assert_eq!(m.description, "d");
    }

    #[test]
    fn ints_follow_python_literal_rules() {
        assert_eq!(parse_int("10"), Some(10));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("0b_101"), Some(5));
        assert_eq!(parse_int("0O17"), Some(15));
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("00"), Some(0));
        for bad in ["01", "1__0", "1_", "_1", "0x", "1.0", "1e3", "0x_"] {
            assert_eq!(parse_int(bad), None, "{bad}");
        }
    }

    // ------------------------------------------- against Python itself

    /// Evaluates each JSON-encoded request with Python: `["lit", src]`
    /// gives `ast.literal_eval(src)`; `["module", src]` executes the module
    /// (test-generated code from a fixed menu, or the repository's own
    /// modules; run outside the sandbox) and gives the metadata the harness
    /// would report.
    const ORACLE: &str = r#"
import ast, json, sys

def py_meta(src):
    ns = {}
    exec(compile(src, "m.py", "exec", dont_inherit=True), ns)
    out = {}
    for k in ("NAME", "CATEGORY", "DESCRIPTION"):
        v = ns.get(k)
        if type(v) is not str or not v.strip():
            return None
        out[k.lower()] = v.strip()
    v = ns.get("VERSION", 1)
    if type(v) is not int:
        return None
    out["version"] = v
    out["has_solve"] = callable(ns.get("solve"))
    return out

def run(kind, src):
    try:
        v = ast.literal_eval(src) if kind == "lit" else py_meta(src)
    except Exception as e:
        return {"error": type(e).__name__}
    try:
        json.dumps(v, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return {"error": "surrogate"}
    except TypeError:
        return {"type": type(v).__name__}
    return {"type": type(v).__name__, "value": v}

print(json.dumps([run(k, s) for k, s in json.load(sys.stdin)]))
"#;

    fn python(requests: &[(&str, String)]) -> Vec<serde_json::Value> {
        use std::io::Write;
        let mut child = std::process::Command::new("python3")
            .args(["-S", "-c", ORACLE])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs (the sandbox needs it anyway)");
        let input = serde_json::to_vec(requests).unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    }

    #[test]
    fn imports_are_the_top_level_packages_named_anywhere() {
        let src = "import re, os.path as p\nfrom collections import deque\nfrom . import x\n\
                   import a.b; import c\ndef f():\n    import heapq\n    s = 'import nope'\n\
                   # import comment\nfrom typing import (\n    List,\n)\n";
        assert_eq!(
            imports(src),
            ["a", "c", "collections", "heapq", "os", "re", "typing"]
        );
        // What was read before a problem still counts.
        assert_eq!(imports("import re\nx = (\n"), ["re"]);
    }

    /// The reader's value of `NAME = <lit>` (unstripped).
    fn read_literal(lit: &str) -> R<Literal> {
        let src = format!("NAME = {lit}\n");
        let mut lines = Vec::new();
        logical_lines(&src, |toks, _| {
            lines.push(toks.to_vec());
            Ok(())
        })?;
        match lines.as_slice() {
            [toks] => meta_assignment(toks).ok_or("no assignment")?.1,
            _ => Err("more than one logical line".into()),
        }
    }

    fn meta_json(m: &ModuleMeta) -> serde_json::Value {
        serde_json::json!({
            "name": m.name, "category": m.category, "description": m.description,
            "version": m.version, "has_solve": m.has_solve,
        })
    }

    #[test]
    fn every_shipped_module_is_read_exactly_as_python_loads_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = crate::env_files(root.join("../../envs/python")).unwrap();
        files.extend(crate::env_files(root.join("tests/fixtures/good")).unwrap());
        assert!(files.len() > 30, "{files:?}");
        let sources: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let req: Vec<(&str, String)> = sources.iter().map(|s| ("module", s.clone())).collect();
        for ((f, src), py) in files.iter().zip(&sources).zip(python(&req)) {
            match read(src) {
                StaticMeta::Read(m) => assert_eq!(meta_json(&m), py["value"], "{}", f.display()),
                StaticMeta::Unreadable(why) => panic!("{}: {why}", f.display()),
            }
        }
    }

    use proptest::prelude::*;

    /// Pieces of string bodies: escapes of every kind, quotes, braces,
    /// non-ASCII and Python-only whitespace.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "a",
            "Z",
            " ",
            "  ",
            "\t",
            "é",
            "😀",
            "\u{3000}",
            "\x1c",
            "{",
            "}",
            "{{",
            "#",
            "'",
            "\"",
            "\\\\",
            "\\'",
            "\\\"",
            "\\n",
            "\\t",
            "\\x41",
            "\\x4",
            "\\101",
            "\\0",
            "\\777",
            "\\u00e9",
            "\\ud800",
            "\\U0001F600",
            "\\U00110000",
            "\\N{BULLET}",
            "\\d",
            "\\\n",
            "\n",
            "\\",
        ])
    }

    fn string_lit() -> impl Strategy<Value = String> {
        let prefix = prop::sample::select(vec!["", "", "r", "R", "u", "U", "b", "f", "rb", "Rb"]);
        let quote = prop::sample::select(vec!["'", "\"", "'''", "\"\"\""]);
        (prefix, quote, prop::collection::vec(piece(), 0..8))
            .prop_map(|(p, q, body)| format!("{p}{q}{}{q}", body.concat()))
    }

    fn literal_src() -> impl Strategy<Value = String> {
        let sep = prop::sample::select(vec![" ", "", "\n", "  # note\n", " \\\n"]);
        (
            prop::collection::vec((string_lit(), sep), 1..4),
            0usize..3,
            prop::sample::select(vec!["1", "0x1F", "1_000", "01", "2.0"]),
            any::<bool>(),
        )
            .prop_map(|(parts, parens, int, use_int)| {
                let body = if use_int {
                    int.to_string()
                } else {
                    parts
                        .iter()
                        .map(|(s, sep)| format!("{s}{sep}"))
                        .collect::<String>()
                };
                format!(
                    "{}{}{}",
                    "(".repeat(parens),
                    body.trim_end(),
                    ")".repeat(parens)
                )
            })
    }

    /// Top-level statements from a menu that includes every trap the
    /// reader must see through.
    fn statement() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "NAME = 'alpha'\n",
            "NAME = (\"al\"\n  'pha')\n",
            "NAME = 'beta'  # NAME = 'no'\n",
            "CATEGORY = 'logic'\n",
            "CATEGORY = \"\"\"math\"\"\"\n",
            "DESCRIPTION = '  Find it. '\n",
            "DESCRIPTION = (\n    'Two '\n    \"parts\"\n)\n",
            "DESCRIPTION: str = 'annotated'\n",
            "VERSION = 3\n",
            "VERSION = (2)\n",
            "def generate(rng, difficulty):\n    return {}\n",
            "def verify(instance, answer):\n    NAME = 'local'\n    return 0.0\n",
            "def solve(instance):\n    return ''\n",
            "async def solve(instance):\n    return ''\n",
            "solve = None\n",
            "if True:\n    NAME = 'gamma'\n",
            "if False:\n    def solve(i):\n        return ''\n",
            "try:\n    import math\nexcept ImportError:\n    solve = None\n",
            "class Holder:\n    NAME = 'class attribute'\n    def verify(self):\n        return 1\n",
            "HELP = '''\nNAME = 'fake'\ndef solve(i): pass\n'''\n",
            "TEMPLATE = f\"{ {'NAME': 1}['NAME'] }\"\n",
            "import math as solve\n",
            "from math import *\n",
            "globals()['NAME'] = 'dyn'\n",
            "def rename():\n    global NAME\n    NAME = 'renamed'\nrename()\n",
            "for VERSION in range(2):\n    pass\n",
            "NAME += 'x'\n",
            "X = [1,\n     2]\n",
            "Y = 1 if 'NAME' else 2\n",
            "\n# a comment\n",
            "del solve\n",
        ])
    }

    /// A module: the required statements plus traps, in random order.
    fn module_src() -> impl Strategy<Value = String> {
        let required = prop::sample::select(vec![
            vec![
                "NAME = 'alpha'\n",
                "CATEGORY = 'logic'\n",
                "DESCRIPTION = 'd'\n",
            ],
            vec![
                "NAME = (\"al\"\n  'pha')\n",
                "CATEGORY = \"\"\"math\"\"\"\n",
                "DESCRIPTION = (\n    'Two '\n    \"parts\"\n)\n",
            ],
        ]);
        (required, prop::collection::vec(statement(), 0..5)).prop_flat_map(|(req, extra)| {
            let mut all: Vec<&'static str> = req;
            all.push("def generate(rng, difficulty):\n    return {}\n");
            all.push("def verify(instance, answer):\n    NAME = 'local'\n    return 0.0\n");
            all.extend(extra);
            Just(all).prop_shuffle().prop_map(|v| v.concat())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// Whatever the reader accepts, Python evaluates to the same value.
        #[test]
        fn literals_read_as_python_evaluates_them(lits in prop::collection::vec(literal_src(), 64)) {
            let req: Vec<(&str, String)> = lits.iter().map(|l| ("lit", l.clone())).collect();
            let mut read_some = 0;
            for (lit, py) in lits.iter().zip(python(&req)) {
                let Ok(ours) = read_literal(lit) else { continue };
                read_some += 1;
                let (ty, value) = match ours {
                    Literal::Str(s) => ("str", serde_json::json!(s)),
                    Literal::Int(n) => ("int", serde_json::json!(n)),
                };
                prop_assert_eq!(&py["type"], ty, "{:?} -> {}", lit, py);
                prop_assert_eq!(&py["value"], &value, "{:?}", lit);
            }
            prop_assert!(read_some > 0, "no literal was readable");
        }

        /// Whatever module the reader reads, Python loads the same metadata.
        #[test]
        fn modules_read_as_python_loads_them(modules in prop::collection::vec(module_src(), 32)) {
            let req: Vec<(&str, String)> = modules.iter().map(|m| ("module", m.clone())).collect();
            let mut read_some = 0;
            for (src, py) in modules.iter().zip(python(&req)) {
                if let StaticMeta::Read(m) = read(src) {
                    read_some += 1;
                    prop_assert_eq!(&py["value"], &meta_json(&m), "{}", src);
                }
            }
            prop_assert!(read_some > 0, "no module was readable");
        }
    }
}
