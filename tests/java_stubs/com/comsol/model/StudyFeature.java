package com.comsol.model;

public interface StudyFeature extends Settable<StudyFeature> {
}
