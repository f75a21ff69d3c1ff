//! The filter expression tree: built with constants folded and repeats merged,
//! printed with every compound operand in parentheses (Logging reads `NOT`, then
//! `OR`, then `AND`).

/// A filter expression; `True`/`False` fold away as it is built.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    True,
    False,
    Term(String),
    /// `path:value` or `path:(v1 OR v2)`, values quoted; ORs of these on one path
    /// merge into one list.
    Has(String, Vec<String>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

pub(super) fn term(s: String) -> Expr {
    Expr::Term(s)
}

/// AND (`and == true`) or OR of several: nested ones of the same kind flattened,
/// constants folded, repeats dropped.
fn join(and: bool, items: Vec<Expr>) -> Expr {
    let (unit, absorb) = if and {
        (Expr::True, Expr::False)
    } else {
        (Expr::False, Expr::True)
    };
    let mut flat: Vec<Expr> = Vec::new();
    for x in items {
        let parts = match x {
            Expr::And(v) if and => v,
            Expr::Or(v) if !and => v,
            other => vec![other],
        };
        for p in parts {
            if p == absorb {
                return absorb;
            }
            if p == unit || flat.contains(&p) {
                continue;
            }
            if let (false, Expr::Has(path, vals)) = (and, &p) {
                let same = flat
                    .iter_mut()
                    .find(|x| matches!(x, Expr::Has(q, _) if q == path));
                if let Some(Expr::Has(_, have)) = same {
                    for v in vals {
                        if !have.contains(v) {
                            have.push(v.clone());
                        }
                    }
                    continue;
                }
            }
            flat.push(p);
        }
    }
    match flat.len() {
        0 => unit,
        1 => flat.remove(0),
        _ if and => Expr::And(flat),
        _ => Expr::Or(flat),
    }
}

pub(super) fn all(items: Vec<Expr>) -> Expr {
    join(true, items)
}

pub(super) fn any(items: Vec<Expr>) -> Expr {
    join(false, items)
}

pub(super) fn not(x: Expr) -> Expr {
    match x {
        Expr::True => Expr::False,
        Expr::False => Expr::True,
        Expr::Not(y) => *y,
        other => Expr::Not(Box::new(other)),
    }
}

impl Expr {
    pub(super) fn render(&self) -> String {
        let list = |v: &[Expr], op: &str| v.iter().map(Expr::operand).collect::<Vec<_>>().join(op);
        match self {
            // Folded away inside expressions; spelt out only if one is printed alone.
            Expr::True => "(insertId=\"\" OR NOT insertId=\"\")".into(),
            Expr::False => "(insertId=\"\" AND NOT insertId=\"\")".into(),
            Expr::Term(s) => s.clone(),
            Expr::Has(p, v) if v.len() == 1 => format!("{p}:{}", v[0]),
            Expr::Has(p, v) => format!("{p}:({})", v.join(" OR ")),
            Expr::And(v) => list(v, " AND "),
            Expr::Or(v) => list(v, " OR "),
            Expr::Not(x) => format!("NOT {}", x.operand()),
        }
    }

    /// As an operand of AND / OR / NOT: compound expressions in parentheses.
    fn operand(&self) -> String {
        match self {
            // NOT binds tightest, so `NOT x` needs no parentheses of its own.
            Expr::Term(_) | Expr::Has(..) | Expr::Not(_) => self.render(),
            other => format!("({})", other.render()),
        }
    }
}

/// `None` for "everything"; a rule that can match nothing keeps an explicit filter.
pub(super) fn render_top(e: &Expr) -> Option<String> {
    match e {
        Expr::True => None,
        Expr::False => Some(Expr::False.render()),
        other => Some(other.render()),
    }
}
