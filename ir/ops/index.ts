// Importing this module registers every op lathe knows. Each file declares one family.
import './elementwise.ts';
