//! JSON documents: one meta record holding the serialized document.
