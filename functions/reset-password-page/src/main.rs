//! `GET /reset-password`: the page the password-reset mail links to; it sets the new password through the confirm route.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::RESET_PASSWORD_PAGE.run()
}
