/** hull's version (package.json's): `hull --version`, `hull version`, `hull-runc --version`. */
export const HULL_VERSION = '0.1.0';
