//! A `ReadableStream` fed from Rust: values are enqueued as they are made, and the producer waits while the
//! consumer's queue is full (backpressure) or stops when the consumer cancels.

use crate::error::{Error, ErrorCode};
use crate::registry::transport::Failure;
use js_sys::{Function, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultController};

#[derive(Default)]
pub struct StreamQueue {
    controller: RefCell<Option<ReadableStreamDefaultController>>,
    /// Resolves the producer's wait for room.
    waiting: RefCell<Option<Function>>,
    cancelled: Cell<bool>,
}

impl StreamQueue {
    /// A new stream and the queue that feeds it.
    pub fn stream() -> Result<(ReadableStream, Rc<StreamQueue>), JsValue> {
        let queue = Rc::new(StreamQueue::default());
        let source = js_sys::Object::new();
        let on_start = queue.clone();
        let start = Closure::<dyn FnMut(ReadableStreamDefaultController)>::new(move |controller| {
            *on_start.controller.borrow_mut() = Some(controller);
        });
        let on_pull = queue.clone();
        let pull = Closure::<dyn FnMut()>::new(move || on_pull.wake());
        let on_cancel = queue.clone();
        let cancel = Closure::<dyn FnMut()>::new(move || {
            on_cancel.cancelled.set(true);
            on_cancel.wake();
        });
        // The stream owns its callbacks from now on: they live as long as it does.
        Reflect::set(&source, &"start".into(), &start.into_js_value())?;
        Reflect::set(&source, &"pull".into(), &pull.into_js_value())?;
        Reflect::set(&source, &"cancel".into(), &cancel.into_js_value())?;
        let stream = ReadableStream::new_with_underlying_source(&source)?;
        Ok((stream, queue))
    }

    fn wake(&self) {
        if let Some(resolve) = self.waiting.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }

    /// Enqueues a value, then waits until the consumer has room for more. A cancelled stream ends the producer.
    pub async fn send(&self, value: &JsValue) -> Result<(), Failure<JsValue>> {
        let cancelled = || Failure::Core(Error::new(ErrorCode::InvalidState, "the reader cancelled the stream"));
        if self.cancelled.get() {
            return Err(cancelled());
        }
        let controller = self.controller.borrow().clone().expect("start() runs when the stream is made");
        controller.enqueue_with_chunk(value).map_err(Failure::Host)?;
        while !self.cancelled.get() && controller.desired_size().unwrap_or(1.0) <= 0.0 {
            let promise = Promise::new(&mut |resolve, _| *self.waiting.borrow_mut() = Some(resolve));
            let _ = JsFuture::from(promise).await;
        }
        if self.cancelled.get() {
            return Err(cancelled());
        }
        Ok(())
    }

    pub fn close(&self) {
        if let Some(controller) = self.controller.borrow().as_ref() {
            if !self.cancelled.get() {
                let _ = controller.close();
            }
        }
    }

    pub fn error(&self, error: &JsValue) {
        if let Some(controller) = self.controller.borrow().as_ref() {
            controller.error_with_e(error);
        }
    }
}
