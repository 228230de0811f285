package com.comsol.model;

/** A component selection (Box, Union, Complement...). */
public interface SelectionFeature extends Settable<SelectionFeature> {
}
