//! The next step of an error, for every error a person sees: the CLI prints it as `hint: …`
//! under the error, the admin API sends it as `error.hint`. A leaf module: every layer's error
//! implements it without depending on the layers above.

/// An error that can say what to do next.
pub trait Hint: std::fmt::Display {
    /// The next step, when there is a useful one.
    fn hint(&self) -> Option<String>;
}
