package com.comsol.model;

/** Property setters shared by feature nodes (set is overloaded for every value type). */
public interface Settable<T> {
  T set(String name, String value);
  T set(String name, int value);
  T set(String name, double value);
  T set(String name, boolean value);
  T set(String name, String[] value);
  T set(String name, int[] value);
  T set(String name, double[] value);
  T set(String name, String[][] value);
  T setIndex(String name, String value, int index);
  T setIndex(String name, int value, int index);
  T setIndex(String name, double value, int index);
  T setIndex(String name, boolean value, int index);
  T label(String label);
}
