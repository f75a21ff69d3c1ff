//! The default rule packs, compiled into the binary so `logtriage report FILE` works
//! with no setup. Each is a file in `rules/`; a test checks every file there is listed.

/// One embedded rule file.
#[derive(Debug, Clone, Copy)]
pub struct Pack {
    /// Pack name (the file stem).
    pub name: &'static str,
    /// File name under `rules/`.
    pub file: &'static str,
    /// The file's text.
    pub source: &'static str,
}

impl Pack {
    /// The name errors and listings use: `<default>/app-auth.toml`.
    pub fn label(&self) -> String {
        format!("<default>/{}", self.file)
    }
}

macro_rules! pack {
    ($name:literal) => {
        Pack {
            name: $name,
            file: concat!($name, ".toml"),
            source: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/rules/",
                $name,
                ".toml"
            )),
        }
    };
}

/// The default packs, in load order.
pub const DEFAULT_PACKS: &[Pack] = &[
    pack!("app-auth"),
    pack!("app-database"),
    pack!("app-startup"),
    pack!("cloud-run"),
];
