//! The alarm's graph under the message this invocation posted (app mode, `image`).

use crate::alarm::Alarm;
use crate::graph::{Graphs, IMAGE_LEFT_OUT};
use crate::http::Deadline;
use crate::log::{self, Level};
use crate::slack::app::App;
use crate::slack::upload;

/// Shares the graph in `thread` (channel ID, parent ts); best effort, like the graph.
pub fn share(app: &App, graphs: &Graphs, alarm: &Alarm, thread: (&str, &str), deadline: Deadline) {
    let Some(image) = graphs.image(app.agent, alarm, deadline) else {
        return;
    };
    match upload::share(app, thread, &image.png, &image.title, image.deadline) {
        Ok(()) => log::debug(&"graph image shared").emit(),
        Err(err) => log::line(Level::Warn, &IMAGE_LEFT_OUT).error(&err).emit(),
    }
}
