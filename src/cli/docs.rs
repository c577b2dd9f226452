//! The man pages and shell completions, generated from the command line itself so that they
//! always list exactly the commands, options and values the binary takes.

use super::Cli;
use clap::{Command, CommandFactory};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Sections of `sealdrop(1)` that clap does not know: environment, files, signals, see also.
const MORE: &str = r#".SH ENVIRONMENT
.TP
\fBSEALDROP_CONFIG\fR
The configuration file, instead of \fB\-\-config\fR.
.TP
\fBSEALDROP_\fISECTION\fB_\fIKEY\fR
Sets any configuration key (e.g. \fBSEALDROP_STORAGE_DATA_DIR\fR); the environment wins over the file.
.TP
\fBRUST_LOG\fR
Overrides \fBlog.level\fR of the server.
.SH FILES
.TP
\fI/etc/sealdrop/sealdrop.toml\fR
The configuration; \fIsealdrop.example.toml\fR documents every key with its default and its environment variable.
.TP
\fIkeys/recipients.txt\fR
The age recipients (public keys) every upload is encrypted to, one per line.
.TP
\fIdata/admin.sock\fR
The admin socket (mode 0600) that \fBsealdrop admin\fR and \fBsealdrop keys\fR talk to.
.SH SIGNALS
.TP
\fBSIGHUP\fR
Re\-reads the recipients file and the TLS certificate, like \fBsealdrop keys reload\fR.
.SH "SEE ALSO"
\fBage\fR(1), \fBage\-keygen\fR(1)
"#;

/// The command tree as the pages show it: no `help` subcommands (`--help` stays).
fn command() -> Command {
    fn without_help(cmd: Command) -> Command {
        cmd.disable_help_subcommand(true)
            .mut_subcommands(without_help)
    }
    let mut cmd = without_help(Cli::command());
    cmd.build();
    cmd
}

/// Writes `sealdrop.1` and one page per subcommand (`sealdrop-admin-list.1`, …) into `dir`,
/// creating it if needed; returns the files written.
pub fn write_man_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let root = command();
    let mut written = vec![dir.join("sealdrop.1")];
    let mut page = std::fs::File::create(&written[0])?;
    let source = format!("sealdrop {}", env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(root.clone()).source(source.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    man.render_subcommands_section(&mut page)?;
    page.write_all(MORE.as_bytes())?;
    man.render_version_section(&mut page)?;
    page.sync_all()?;
    fn each(cmd: &Command, dir: &Path, source: &str, written: &mut Vec<PathBuf>) -> io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let man = clap_mangen::Man::new(sub.clone()).source(source);
            written.push(man.generate_to(dir)?);
            each(sub, dir, source, written)?;
        }
        Ok(())
    }
    each(&root, dir, &source, &mut written)?;
    Ok(written)
}

/// Writes the completion script for `shell`.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    // clap_complete panics when its writer fails (a closed pipe): it writes to memory here.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "sealdrop", &mut script);
    out.write_all(&script)?;
    out.flush()
}
