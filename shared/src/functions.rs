//! Every function of the project, in one table: its name, its trigger and its handler.
//!
//! Each entry is a `static` [`Function`]; a function's `main` is the one line `shared::functions::NAME.run()`.
//! Handlers are plain function pointers, so every handler is compiled once, here in `shared`, instead of once
//! more in each function binary that names it: building the many binaries is mostly linking, and a binary links
//! only the entry it names (and what that reaches). Tests check this table against `template.yaml`,
//! `functions/`, `events/` and `openapi.yaml`.

use platform::{Function, Trigger};

macro_rules! trigger {
    (http $key:literal, $handler:path) => {
        Trigger::Http { key: $key, handler: |platform, request| Box::pin($handler(platform, request)) }
    };
    (queue, $handler:path) => {
        Trigger::Queue($handler)
    };
    (schedule, $handler:path) => {
        Trigger::Schedule($handler)
    };
    (invoke, $handler:path) => {
        Trigger::Invoke($handler)
    };
}

macro_rules! functions {
    ($($(#[$doc:meta])* $name:ident = $function:literal, $kind:ident $($key:literal)? => $handler:path;)*) => {
        $(
            $(#[$doc])*
            pub static $name: Function = Function { name: $function, trigger: trigger!($kind $($key)?, $handler) };
        )*
        /// Every function, for the checks against the template, `functions/`, `events/` and the API document.
        pub static ALL: &[&Function] = &[$(&$name),*];
    };
}

functions! {
    // HTTP routes (API Gateway).
    HEALTH = "health", http "GET /api/v1/health" => crate::health::cached_route;
    SIGN_IN_MINI_APP = "sign-in-mini-app", http "POST /api/v1/auth/telegram/mini-app" => crate::identity::sign_in_mini_app;
    SIGN_IN_TELEGRAM_WIDGET = "sign-in-telegram-widget", http "POST /api/v1/auth/telegram/widget" => crate::identity::sign_in_telegram_widget;
    REGISTER = "register", http "POST /api/v1/auth/register" => crate::identity::register;
    SIGN_IN = "sign-in", http "POST /api/v1/auth/login" => crate::identity::sign_in;
    SIGN_OUT = "sign-out", http "POST /api/v1/auth/logout" => crate::identity::sign_out;
    REQUEST_PASSWORD_RESET = "request-password-reset", http "POST /api/v1/auth/password-reset" => crate::identity::request_password_reset;
    CONFIRM_PASSWORD_RESET = "confirm-password-reset", http "POST /api/v1/auth/password-reset/confirm" => crate::identity::confirm_password_reset;
    RESET_PASSWORD_PAGE = "reset-password-page", http "GET /reset-password" => crate::identity::reset_page::route;
    GET_ME = "get-me", http "GET /api/v1/me" => crate::users::me::get_me;
    UPDATE_ME = "update-me", http "PATCH /api/v1/me" => crate::users::me::update_me;
    REMOVE_AVATAR = "remove-avatar", http "DELETE /api/v1/me/avatars/{avatar_id}" => crate::users::me::remove_avatar;
    HEARTBEAT = "heartbeat", http "POST /api/v1/me/heartbeat" => crate::users::me::heartbeat;
    MY_STATS = "my-stats", http "GET /api/v1/me/stats" => crate::quiz::stats::my_stats;
    LIST_TOPICS = "list-topics", http "GET /api/v1/topics" => crate::quiz::catalogue::list_topics;
    GET_TOPIC = "get-topic", http "GET /api/v1/topics/{topic_id}" => crate::quiz::catalogue::get_topic;
    LIST_SUBTOPICS = "list-subtopics", http "GET /api/v1/topics/{topic_id}/subtopics" => crate::quiz::catalogue::list_subtopics;
    TASK_FEED = "task-feed", http "GET /api/v1/subtopics/{subtopic_id}/tasks" => crate::quiz::catalogue::task_feed;
    SUBMIT_ANSWER = "submit-answer", http "POST /api/v1/tasks/{task_id}/answer" => crate::quiz::answers::submit_answer;
    USER_PROFILE = "user-profile", http "GET /api/v1/users/{user_id}" => crate::quiz::stats::user_profile;
    LEADERBOARD = "leaderboard", http "GET /api/v1/leaderboard" => crate::quiz::leaderboard::route;
    GLOBAL_STATS = "global-stats", http "GET /api/v1/stats" => crate::quiz::stats::global;
    IMPORT_TASKS = "import-tasks", http "POST /api/v1/admin/tasks/import" => crate::quiz::admin::import_tasks;
    SUBMIT_CONTACT_FORM = "submit-contact-form", http "POST /api/v1/contact" => crate::contact::submit;
    UPDATE_TASK = "update-task", http "PATCH /api/v1/admin/tasks/{task_id}" => crate::quiz::admin::update_task;
    CREATE_UPLOAD = "create-upload", http "POST /api/v1/uploads" => crate::uploads::create;
    GET_UPLOAD = "get-upload", http "GET /api/v1/uploads/{upload_id}" => crate::uploads::get;
    COMPLETE_UPLOAD = "complete-upload", http "POST /api/v1/uploads/{upload_id}/complete" => crate::uploads::complete;
    SUBMIT_FEEDBACK = "submit-feedback", http "POST /api/v1/feedback" => crate::feedback::submit;
    LIST_BLOG_POSTS = "list-blog-posts", http "GET /api/v1/blog/posts" => crate::blog::reader::list_posts;
    GET_BLOG_POST = "get-blog-post", http "GET /api/v1/blog/posts/{slug}" => crate::blog::reader::get_post;
    LIST_BLOG_CATEGORIES = "list-blog-categories", http "GET /api/v1/blog/categories" => crate::blog::reader::list_categories;
    LIKE_BLOG_POST = "like-blog-post", http "POST /api/v1/blog/posts/{slug}/like" => crate::blog::reader::like;
    UNLIKE_BLOG_POST = "unlike-blog-post", http "DELETE /api/v1/blog/posts/{slug}/like" => crate::blog::reader::unlike;
    COUNT_BLOG_POST_VIEW = "count-blog-post-view", http "POST /api/v1/blog/posts/{slug}/view" => crate::blog::reader::count_view;
    CREATE_BLOG_CATEGORY = "create-blog-category", http "POST /api/v1/admin/blog/categories" => crate::blog::admin::create_category;
    CREATE_BLOG_POST = "create-blog-post", http "POST /api/v1/admin/blog/posts" => crate::blog::admin::create_post;
    UPDATE_BLOG_POST = "update-blog-post", http "PATCH /api/v1/admin/blog/posts/{post_id}" => crate::blog::admin::update_post;
    DELETE_BLOG_POST = "delete-blog-post", http "DELETE /api/v1/admin/blog/posts/{post_id}" => crate::blog::admin::delete_post;
    BLOG_POST_PAGE = "blog-post-page", http "GET /blog/{slug}" => crate::blog::page::post_page;
    TELEGRAM_WEBHOOK = "telegram-webhook", http "POST /api/v1/telegram/webhook" => crate::telegram::webhook::route;
    PUBLISH_TO_TELEGRAM = "publish-to-telegram", http "POST /api/v1/admin/telegram/publish" => crate::telegram::publish::publish_route;
    REGISTER_TELEGRAM_CHANNEL = "register-telegram-channel", http "PUT /api/v1/admin/telegram/channels" => crate::telegram::publish::register_channel;
    REGISTER_WEBHOOK = "register-webhook", http "POST /api/v1/admin/webhooks" => crate::webhooks::register;
    LIST_WEBHOOKS = "list-webhooks", http "GET /api/v1/admin/webhooks" => crate::webhooks::list;
    REMOVE_WEBHOOK = "remove-webhook", http "DELETE /api/v1/admin/webhooks/{webhook_id}" => crate::webhooks::remove;
    /// Also serves `GET /app` (a redirect to `/app/`): the template routes both to the function.
    MINI_APP = "mini-app", http "GET /app/{proxy+}" => crate::mini_app::route;

    // Jobs, each on its own SQS queue.
    DEBUG = "debug", queue => crate::debug_job::handle;
    DELIVER_WEBHOOKS = "deliver-webhooks", queue => crate::webhooks::job;
    GENERATE_OG_IMAGE = "generate-og-image", queue => crate::blog::og::generate_job;
    IMPORT_TELEGRAM_DOCUMENT = "import-telegram-document", queue => crate::telegram::documents::job;
    PROCESS_UPLOADED_FILE = "process-uploaded-file", queue => crate::uploads::process_job;
    PUBLISH_TELEGRAM_TRANSLATION = "publish-telegram-translation", queue => crate::telegram::publish::job;
    SEND_CONTACT_FORM_EMAIL = "send-contact-form-email", queue => crate::contact::notify_job;
    SEND_EMAIL = "send-email", queue => crate::mail::handle;

    // Schedules (EventBridge).
    CLEANUP_OLD_MEDIA_FILES = "cleanup-old-media-files", schedule => crate::media_cleanup::job;
    CLEAR_EXPIRED_SESSIONS = "clear-expired-sessions", schedule => crate::sessions::clear_expired_job;
    REPUBLISH_EVENTS = "republish-events", schedule => crate::republish::job;
    UPDATE_USER_STATISTICS_CACHE = "update-user-statistics-cache", schedule => crate::quiz::stats::refresh_job;

    // Invoked directly.
    CACHE_MONITOR = "cache-monitor", invoke => crate::cache_monitor::invoke;
    MIGRATE = "migrate", invoke => crate::migrations::invoke;
    QUEUE_INSPECT = "queue-inspect", invoke => crate::queue_inspect::invoke;
    SET_TELEGRAM_WEBHOOK = "set-telegram-webhook", invoke => crate::telegram::set_webhook;
}
