//! Every HTTP route this project serves: its API Gateway route key and its handler, in one table.
//!
//! Each entry is a `static` whose handler is a plain function pointer that boxes the handler's future. That
//! keeps every handler compiled once, here in `shared`, instead of once more in each function binary that
//! names it: a route binary's `main` only hands its entry to [`crate::trigger::http::run`], so building the
//! many binaries is mostly linking. A binary links only the entry it names (and what that reaches).

use crate::http::ApiRequest;
use crate::platform::Platform;
use crate::trigger::http::RouteFuture;

/// One HTTP route: the function that serves it, the route key (`METHOD /path/{param}`, as in `template.yaml`) and
/// its handler.
pub struct Route {
    /// The function's binary (its crate under `functions/`): names the instance in its log lines.
    pub function: &'static str,
    pub key: &'static str,
    pub handler: fn(&'static Platform, ApiRequest) -> RouteFuture,
}

macro_rules! routes {
    ($($(#[$doc:meta])* $name:ident = $function:literal, $key:literal => $handler:path;)*) => {
        $(
            $(#[$doc])*
            pub static $name: Route = Route { function: $function, key: $key, handler: |platform, request| Box::pin($handler(platform, request)) };
        )*
        /// Every route, for checks against the template and the API document.
        pub static ALL: &[&Route] = &[$(&$name),*];
    };
}

routes! {
    HEALTH = "health", "GET /api/v1/health" => crate::health::cached_route;
    SIGN_IN_MINI_APP = "sign-in-mini-app", "POST /api/v1/auth/telegram/mini-app" => crate::identity::sign_in_mini_app;
    SIGN_IN_TELEGRAM_WIDGET = "sign-in-telegram-widget", "POST /api/v1/auth/telegram/widget" => crate::identity::sign_in_telegram_widget;
    REGISTER = "register", "POST /api/v1/auth/register" => crate::identity::register;
    SIGN_IN = "sign-in", "POST /api/v1/auth/login" => crate::identity::sign_in;
    SIGN_OUT = "sign-out", "POST /api/v1/auth/logout" => crate::identity::sign_out;
    REQUEST_PASSWORD_RESET = "request-password-reset", "POST /api/v1/auth/password-reset" => crate::identity::request_password_reset;
    CONFIRM_PASSWORD_RESET = "confirm-password-reset", "POST /api/v1/auth/password-reset/confirm" => crate::identity::confirm_password_reset;
    RESET_PASSWORD_PAGE = "reset-password-page", "GET /reset-password" => crate::identity::reset_page::route;
    GET_ME = "get-me", "GET /api/v1/me" => crate::users::get_me;
    UPDATE_ME = "update-me", "PATCH /api/v1/me" => crate::users::update_me;
    REMOVE_AVATAR = "remove-avatar", "DELETE /api/v1/me/avatars/{avatar_id}" => crate::users::remove_avatar;
    HEARTBEAT = "heartbeat", "POST /api/v1/me/heartbeat" => crate::users::heartbeat;
    MY_STATS = "my-stats", "GET /api/v1/me/stats" => crate::quiz::stats::my_stats;
    LIST_TOPICS = "list-topics", "GET /api/v1/topics" => crate::quiz::catalogue::list_topics;
    GET_TOPIC = "get-topic", "GET /api/v1/topics/{topic_id}" => crate::quiz::catalogue::get_topic;
    LIST_SUBTOPICS = "list-subtopics", "GET /api/v1/topics/{topic_id}/subtopics" => crate::quiz::catalogue::list_subtopics;
    TASK_FEED = "task-feed", "GET /api/v1/subtopics/{subtopic_id}/tasks" => crate::quiz::catalogue::task_feed;
    SUBMIT_ANSWER = "submit-answer", "POST /api/v1/tasks/{task_id}/answer" => crate::quiz::answers::submit_answer;
    USER_PROFILE = "user-profile", "GET /api/v1/users/{user_id}" => crate::quiz::stats::user_profile;
    LEADERBOARD = "leaderboard", "GET /api/v1/leaderboard" => crate::quiz::leaderboard::route;
    GLOBAL_STATS = "global-stats", "GET /api/v1/stats" => crate::quiz::stats::global;
    IMPORT_TASKS = "import-tasks", "POST /api/v1/admin/tasks/import" => crate::quiz::admin::import_tasks;
    SUBMIT_CONTACT_FORM = "submit-contact-form", "POST /api/v1/contact" => crate::contact::submit;
    UPDATE_TASK = "update-task", "PATCH /api/v1/admin/tasks/{task_id}" => crate::quiz::admin::update_task;
    CREATE_UPLOAD = "create-upload", "POST /api/v1/uploads" => crate::uploads::create;
    GET_UPLOAD = "get-upload", "GET /api/v1/uploads/{upload_id}" => crate::uploads::get;
    COMPLETE_UPLOAD = "complete-upload", "POST /api/v1/uploads/{upload_id}/complete" => crate::uploads::complete;
    SUBMIT_FEEDBACK = "submit-feedback", "POST /api/v1/feedback" => crate::feedback::submit;
    LIST_BLOG_POSTS = "list-blog-posts", "GET /api/v1/blog/posts" => crate::blog::reader::list_posts;
    GET_BLOG_POST = "get-blog-post", "GET /api/v1/blog/posts/{slug}" => crate::blog::reader::get_post;
    LIST_BLOG_CATEGORIES = "list-blog-categories", "GET /api/v1/blog/categories" => crate::blog::reader::list_categories;
    LIKE_BLOG_POST = "like-blog-post", "POST /api/v1/blog/posts/{slug}/like" => crate::blog::reader::like;
    UNLIKE_BLOG_POST = "unlike-blog-post", "DELETE /api/v1/blog/posts/{slug}/like" => crate::blog::reader::unlike;
    COUNT_BLOG_POST_VIEW = "count-blog-post-view", "POST /api/v1/blog/posts/{slug}/view" => crate::blog::reader::count_view;
    CREATE_BLOG_CATEGORY = "create-blog-category", "POST /api/v1/admin/blog/categories" => crate::blog::admin::create_category;
    CREATE_BLOG_POST = "create-blog-post", "POST /api/v1/admin/blog/posts" => crate::blog::admin::create_post;
    UPDATE_BLOG_POST = "update-blog-post", "PATCH /api/v1/admin/blog/posts/{post_id}" => crate::blog::admin::update_post;
    DELETE_BLOG_POST = "delete-blog-post", "DELETE /api/v1/admin/blog/posts/{post_id}" => crate::blog::admin::delete_post;
    BLOG_POST_PAGE = "blog-post-page", "GET /blog/{slug}" => crate::blog::page::post_page;
    TELEGRAM_WEBHOOK = "telegram-webhook", "POST /api/v1/telegram/webhook" => crate::telegram::webhook::route;
    PUBLISH_TO_TELEGRAM = "publish-to-telegram", "POST /api/v1/admin/telegram/publish" => crate::telegram::publish::publish_route;
    REGISTER_TELEGRAM_CHANNEL = "register-telegram-channel", "PUT /api/v1/admin/telegram/channels" => crate::telegram::publish::register_channel;
    REGISTER_WEBHOOK = "register-webhook", "POST /api/v1/admin/webhooks" => crate::webhooks::register;
    LIST_WEBHOOKS = "list-webhooks", "GET /api/v1/admin/webhooks" => crate::webhooks::list;
    REMOVE_WEBHOOK = "remove-webhook", "DELETE /api/v1/admin/webhooks/{webhook_id}" => crate::webhooks::remove;
    /// Also serves `GET /app` (a redirect to `/app/`): the template routes both to the function.
    MINI_APP = "mini-app", "GET /app/{proxy+}" => crate::mini_app::route;
}
